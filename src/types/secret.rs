//! A wrapper that keeps credentials out of logs.
//!
//! SASL exchanges (RFC 4954, RFC 4616) carry passwords and bearer tokens;
//! wrapping them means a stray `{:?}` in a trace cannot leak them.

use core::fmt;

/// A credential whose `Debug` output is always redacted.
///
/// The wrapped value is reachable only through [`Secret::expose`] or
/// [`Secret::into_inner`], so every read is visible at the call site.
/// Memory is not zeroed on drop.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps `value`.
    pub const fn new(value: T) -> Self {
        Self(value)
    }

    /// Borrows the wrapped value.
    pub const fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps and returns the value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

// Hand-written so that no bound on `T: Debug` is needed and nothing of
// the value, not even its length, is printed.
impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn debug_is_redacted() {
        let s = Secret::new("hunter2");
        let shown = format!("{s:?}");
        assert_eq!(shown, "Secret(<redacted>)");
        assert!(!shown.contains("hunter2"));
        assert!(!format!("{s:#?}").contains("hunter2"));
    }

    #[test]
    fn debug_is_redacted_when_nested() {
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Login {
            user: String,
            password: Secret<String>,
            token: Option<Secret<Vec<u8>>>,
        }
        let login = Login {
            user: "alice".into(),
            password: Secret::new("hunter2".into()),
            token: Some(Secret::new(b"tok-hunter2".to_vec())),
        };
        for shown in [format!("{login:?}"), format!("{login:#?}")] {
            assert!(shown.contains("alice"));
            assert!(!shown.contains("hunter2"));
            // The byte values of the token must not appear either.
            assert!(!shown.contains("104"));
            assert!(shown.contains("Secret(<redacted>)"));
        }
    }

    #[test]
    fn debug_needs_no_debug_bound() {
        struct Opaque;
        assert_eq!(format!("{:?}", Secret::new(Opaque)), "Secret(<redacted>)");
    }

    #[test]
    fn accessors_and_traits() {
        let s: Secret<String> = String::from("pw").into();
        assert_eq!(s.expose(), "pw");
        let t = s.clone();
        assert_eq!(s, t);
        assert_ne!(s, Secret::new(String::from("other")));
        assert_eq!(t.into_inner(), "pw");
        assert_eq!(Secret::<String>::default().expose(), "");
    }
}
