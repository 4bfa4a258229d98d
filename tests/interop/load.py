"""Interop load: CLIENTS concurrent smtplib sessions send TOTAL messages in all.

Usage: python3 load.py HOST PORT CLIENTS TOTAL [ACKED_FILE]
With ACKED_FILE, the ids of acknowledged messages are appended to it as they are
acknowledged, and connection failures are tolerated (the server may be shut down
mid-run); the exit status is then 0.
Message i is "X-Id: <i>\r\nSubject: load <i>\r\n\r\n" followed by a body derived from i, so
the receiver can check every message arrived intact and once. Exits 1 on any failure.
"""
import smtplib
import sys
import threading


def message(i):
    body = "".join(f"line {k} of message {i} .{'x' * (k % 70)}\r\n" for k in range(i % 40 + 1))
    return f"X-Id: {i}\r\nSubject: load {i}\r\n\r\n{body}".encode()


def main():
    host, port, clients, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    acked_path = sys.argv[5] if len(sys.argv) > 5 else None
    acked = open(acked_path, "a", buffering=1) if acked_path else None
    lock = threading.Lock()
    failures = []

    def worker(w):
        try:
            s = smtplib.SMTP(host, port, timeout=60)
            s.ehlo("load.example")
            for i in range(w, total, clients):
                refused = s.sendmail("load@example.org", [f"rcpt{i % 7}@example.org"], message(i))
                if refused:
                    failures.append((i, refused))
                elif acked:
                    with lock:
                        acked.write(f"{i}\n")
            s.quit()
        except Exception as e:  # reported below, makes the run fail
            failures.append((w, repr(e)))

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures and not acked:
        print("failures:", failures[:5], file=sys.stderr)
        sys.exit(1)
    print(f"sent {total} messages over {clients} connections")


if __name__ == "__main__":
    main()
