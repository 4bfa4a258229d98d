//! Reads criterion's estimates for the `peers` bench (target/criterion/<group>/<fn>/new/
//! estimates.json), prints the table and the ratios against the targets, and
//! writes `results.json` for the chart. Run after `cargo bench --bench peers`.

use std::path::Path;

const CMDS: f64 = 14.0;
const WIRE_GROUP: &str = "peers_data_10MiB";
const SHAPE_FNS: &[&str] = &[
    "memcpy",
    "smtp-sansio_whole",
    "smtp-sansio_64KiB_reads",
    "smtp-proto_whole",
    "smtp-proto_64KiB_reads",
];

fn mean_ns(root: &Path, group: &str, func: &str) -> Option<f64> {
    let p = root.join(group).join(func).join("new/estimates.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()?;
    v["mean"]["point_estimate"].as_f64()
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/criterion");
    let wire_len = {
        let body = smtp_sansio_peers::corpus::message(10 * 1024 * 1024);
        smtp_sansio::data::dot_stuff(&body).len() as f64
    };
    println!("CPU: {}", smtp_sansio_peers::cpu_model());
    println!("Corpus acceptance (one line at a time):");
    for (line, ok) in smtp_sansio_peers::acceptance() {
        let who: Vec<_> = smtp_sansio_peers::PARSERS
            .iter()
            .zip(ok)
            .filter(|(_, a)| !a)
            .map(|(n, _)| *n)
            .collect();
        if !who.is_empty() {
            println!("  rejected by {}: {line:?}", who.join(", "));
        }
    }
    let mut json = serde_json::Map::new();
    println!("\nMixed 14-line corpus, ns/command:");
    let mut parse = serde_json::Map::new();
    for f in ["smtp-sansio", "smtp-proto", "smtp-codec", "floor"] {
        if let Some(ns) = mean_ns(&root, "peers_mixed_14", f) {
            println!("  {f:<14} {:>8.1}", ns / CMDS);
            parse.insert(f.into(), (ns / CMDS).into());
        }
    }
    println!("\nDATA 10 MiB, GB/s (10^9 bytes/s of wire input):");
    let mut data = serde_json::Map::new();
    for f in [
        "memcpy",
        "end_marker_scan",
        "smtp-sansio_whole",
        "smtp-sansio_server_whole",
        "smtp-sansio_64KiB_reads",
        "smtp-sansio_server_64KiB_reads",
        "smtp-proto_whole",
        "smtp-proto_64KiB_reads",
    ] {
        if let Some(ns) = mean_ns(&root, WIRE_GROUP, f) {
            println!("  {f:<32} {:>7.2}", wire_len / ns);
            data.insert(f.into(), (wire_len / ns).into());
        }
    }
    let g = |m: &serde_json::Map<String, serde_json::Value>, k: &str| {
        m.get(k).and_then(|v| v.as_f64()).unwrap_or(f64::NAN)
    };
    println!("\nTargets:");
    let r = g(&parse, "smtp-sansio") / g(&parse, "smtp-proto");
    println!(
        "  parse time / smtp-proto time        = {r:.2}  (target <= 0.60: {})",
        if r <= 0.6 { "met" } else { "MISSED" }
    );
    for (ours, proto) in [
        ("smtp-sansio_server_whole", "smtp-proto_whole"),
        ("smtp-sansio_whole", "smtp-proto_whole"),
        ("smtp-sansio_server_64KiB_reads", "smtp-proto_64KiB_reads"),
        ("smtp-sansio_64KiB_reads", "smtp-proto_64KiB_reads"),
    ] {
        let m = g(&data, ours) / g(&data, "memcpy");
        let p = g(&data, ours) / g(&data, proto);
        println!(
            "  {ours:<32} {m:.2} x memcpy (>= 1.0: {}), {p:.2} x {proto} (>= 1.3: {})",
            if m >= 1.0 { "met" } else { "MISSED" },
            if p >= 1.3 { "met" } else { "MISSED" }
        );
    }
    println!("\nDATA by body shape, 10 MiB each, GB/s; ratios to memcpy and smtp-proto:");
    let mut shapes = serde_json::Map::new();
    for shape in smtp_sansio_peers::corpus::SHAPES {
        let wire = smtp_sansio::data::dot_stuff(&smtp_sansio_peers::corpus::body(shape, 10 << 20));
        let group = format!("peers_data_shape_{shape}");
        let mut m = serde_json::Map::new();
        for &f in SHAPE_FNS {
            if let Some(ns) = mean_ns(&root, &group, f) {
                m.insert(f.into(), (wire.len() as f64 / ns).into());
            }
        }
        if m.is_empty() {
            continue;
        }
        let ratio = |a: &str, b: &str| g(&m, a) / g(&m, b);
        println!(
            "  {shape:<17} whole {:.2} x memcpy, {:.2} x smtp-proto; 64 KiB reads {:.2} x memcpy, {:.2} x smtp-proto",
            ratio("smtp-sansio_whole", "memcpy"),
            ratio("smtp-sansio_whole", "smtp-proto_whole"),
            ratio("smtp-sansio_64KiB_reads", "memcpy"),
            ratio("smtp-sansio_64KiB_reads", "smtp-proto_64KiB_reads"),
        );
        shapes.insert((*shape).into(), m.into());
    }
    json.insert("cpu".into(), smtp_sansio_peers::cpu_model().into());
    json.insert("gb_per_s_by_shape".into(), shapes.into());
    json.insert("ns_per_command".into(), parse.into());
    json.insert("gb_per_s".into(), data.into());
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("results.json");
    std::fs::write(&out, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    println!("\nwrote {}", out.display());
}
