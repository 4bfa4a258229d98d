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
