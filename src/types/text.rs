//! The text inside validated types: borrowed from the input, owned, or a shared slice
//! of a received line, so that a server can hand addresses to the application with
//! `'static` lifetimes without copying them.

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

use bytes::Bytes;
use bytestring::ByteString;

#[derive(Clone)]
pub(crate) enum Str<'a> {
    Cow(Cow<'a, str>),
    /// A slice of a received line (reference-counted, never copied).
    Shared(ByteString),
}

impl<'a> Str<'a> {
    pub(crate) fn into_owned(self) -> Str<'static> {
        match self {
            Str::Cow(c) => Str::Cow(Cow::Owned(c.into_owned())),
            Str::Shared(b) => Str::Shared(b),
        }
    }

    /// The `'static` form without a copy when the text lies inside `line` (the bytes it
    /// was parsed from): a slice of `line` then, a copy otherwise.
    pub(crate) fn into_shared(self, line: &Bytes) -> Str<'static> {
        match self {
            Str::Cow(Cow::Borrowed(s)) => {
                let (start, end) = (line.as_ptr() as usize, line.as_ptr() as usize + line.len());
                let p = s.as_ptr() as usize;
                if !s.is_empty() && p >= start && p + s.len() <= end {
                    let bytes = line.slice_ref(s.as_bytes());
                    if let Ok(b) = ByteString::try_from(bytes) {
                        return Str::Shared(b);
                    }
                }
                Str::Cow(Cow::Owned(s.to_owned()))
            }
            Str::Cow(Cow::Owned(s)) => Str::Cow(Cow::Owned(s)),
            Str::Shared(b) => Str::Shared(b),
        }
    }
}

impl Deref for Str<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            Str::Cow(c) => c,
            Str::Shared(b) => b,
        }
    }
}

impl fmt::Debug for Str<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl PartialEq for Str<'_> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for Str<'_> {}

impl std::hash::Hash for Str<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (**self).hash(state);
    }
}

impl<'a> From<Cow<'a, str>> for Str<'a> {
    fn from(c: Cow<'a, str>) -> Self {
        Str::Cow(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{Hash, Hasher};

    fn hash(v: &Str<'_>) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        v.hash(&mut h);
        h.finish()
    }

    #[test]
    fn shared_text_is_a_slice_of_the_line() {
        let line = Bytes::from_static(b"RCPT TO:<bob@example.org>");
        let s = std::str::from_utf8(&line[9..24]).unwrap_or_default();
        let shared = Str::Cow(Cow::Borrowed(s)).into_shared(&line);
        assert!(matches!(shared, Str::Shared(_)));
        assert_eq!(&*shared, "bob@example.org");
        assert_eq!(shared.as_ptr(), line[9..].as_ptr(), "not a copy");
        // Equal to, and hashed like, the same text held any other way.
        let owned = Str::Cow(Cow::Owned("bob@example.org".to_owned()));
        assert_eq!(shared, owned);
        assert_eq!(hash(&shared), hash(&owned));
        assert_eq!(format!("{shared:?}"), format!("{owned:?}"));
    }

    #[test]
    fn text_from_elsewhere_is_copied() {
        let line = Bytes::from_static(b"EHLO a.example");
        let elsewhere = String::from("a.example");
        let s = Str::Cow(Cow::Borrowed(elsewhere.as_str())).into_shared(&line);
        assert!(matches!(s, Str::Cow(Cow::Owned(_))));
        assert_eq!(&*s, "a.example");
        let empty = Str::Cow(Cow::Borrowed("")).into_shared(&line);
        assert_eq!(&*empty, "");
    }
}
