//! Field names as decisions carry them: the paths of a plan are interned once, so the tens of
//! decisions made per record copy a pointer instead of counting references.

use std::collections::HashSet;
use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

/// A field path (`addresses[*].email`, `$subject.id`) in a decision or a plan.
///
/// Paths a policy set names are interned for the life of the process (a set names a few
/// hundred at most, and reloading a set adds only the paths it did not name before); paths
/// that come from records (unclassified keys) are shared strings, freed with the decisions.
#[derive(Clone)]
pub struct FieldName(Repr);

#[derive(Clone)]
enum Repr {
    Interned(&'static str),
    Shared(Arc<str>),
}

static INTERNED: LazyLock<Mutex<HashSet<&'static str>>> = LazyLock::new(Default::default);

impl FieldName {
    /// The interned name `path` (a path the policy set names).
    pub(crate) fn interned(path: &str) -> Self {
        let mut names = INTERNED.lock().unwrap_or_else(PoisonError::into_inner);
        let name = match names.get(path) {
            Some(&name) => name,
            None => {
                let name: &'static str = Box::leak(path.into());
                names.insert(name);
                name
            }
        };
        FieldName(Repr::Interned(name))
    }

    /// The path as text.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Interned(s) => s,
            Repr::Shared(s) => s,
        }
    }
}

impl Default for FieldName {
    /// The empty path (the record itself).
    fn default() -> Self {
        FieldName(Repr::Interned(""))
    }
}

impl From<String> for FieldName {
    fn from(path: String) -> Self {
        FieldName(Repr::Shared(path.into()))
    }
}

impl From<&str> for FieldName {
    fn from(path: &str) -> Self {
        FieldName(Repr::Shared(path.into()))
    }
}

impl Deref for FieldName {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for FieldName {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for FieldName {}

impl PartialEq<str> for FieldName {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for FieldName {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Display for FieldName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for FieldName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interned_and_shared_names_compare_by_text() {
        let a = FieldName::interned("addresses[*].email");
        let b = FieldName::interned("addresses[*].email");
        assert!(
            matches!((&a.0, &b.0), (Repr::Interned(x), Repr::Interned(y)) if std::ptr::eq(*x, *y))
        );
        assert_eq!(a, FieldName::from("addresses[*].email"));
        assert_eq!(a, "addresses[*].email");
        assert_ne!(a, FieldName::interned("addresses[*].phone"));
        assert_eq!(
            format!("{a} {a:?}"),
            r#"addresses[*].email "addresses[*].email""#
        );
    }
}
