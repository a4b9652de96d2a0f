//! Field classes: what kind of data a field holds.

use std::fmt;

macro_rules! classes {
    ($($variant:ident => $name:literal, $kind:ident;)*) => {
        /// The class of a field.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Class {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
        }

        impl Class {
            /// Every class, in index order.
            pub const ALL: &'static [Class] = &[$(Class::$variant),*];

            /// The dotted name used in YAML.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Class::$variant => $name,)*
                }
            }

            /// Parses a dotted class name.
            pub fn parse(name: &str) -> Option<Class> {
                match name {
                    $($name => Some(Class::$variant),)*
                    _ => None,
                }
            }

            /// Whether the class is personal, sensitive or neither.
            pub fn kind(self) -> ClassKind {
                match self {
                    $(Class::$variant => ClassKind::$kind,)*
                }
            }
        }
    };
}

classes! {
    Name => "personal.name", Personal;
    Phone => "personal.phone", Personal;
    Email => "personal.email", Personal;
    Address => "personal.address", Personal;
    NationalId => "personal.national_id", Personal;
    MessagingHandle => "personal.messaging_handle", Personal;
    BirthDate => "personal.birth_date", Personal;
    BankAccount => "personal.bank_account", Personal;
    BankCard => "personal.bank_card", Personal;
    Health => "sensitive.health", Sensitive;
    Religion => "sensitive.religion", Sensitive;
    Ethnicity => "sensitive.ethnicity", Sensitive;
    Biometrics => "sensitive.biometrics", Sensitive;
    Finances => "sensitive.finances", Sensitive;
    Family => "sensitive.family", Sensitive;
    Business => "business", Other;
    Identifier => "identifier", Other;
    Unclassified => "unclassified", Other;
}

/// The number of classes; tables indexed by class have this length.
pub const CLASS_COUNT: usize = Class::ALL.len();

/// Broad kind of a class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClassKind {
    /// Personal data (`personal.*`).
    Personal,
    /// Sensitive personal data (`sensitive.*`): never crosses a border.
    Sensitive,
    /// Business data, identifiers and unclassified fields.
    Other,
}

impl Class {
    /// Index into per-class tables.
    pub fn index(self) -> usize {
        self as usize
    }

    /// True for personal and sensitive classes.
    pub fn is_personal(self) -> bool {
        self.kind() != ClassKind::Other
    }

    /// True for sensitive classes.
    pub fn is_sensitive(self) -> bool {
        self.kind() == ClassKind::Sensitive
    }

    /// Strings of this class are scanned for personal data (they are not personal already).
    pub fn is_scanned(self) -> bool {
        self.kind() == ClassKind::Other
    }

    /// Every class name, for error messages.
    pub fn all_names() -> String {
        Class::ALL
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A pattern over classes: one class, `personal.*`, `sensitive.*` or `*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClassPattern {
    /// Exactly this class.
    Exact(Class),
    /// Every personal class.
    AnyPersonal,
    /// Every sensitive class.
    AnySensitive,
    /// Every class.
    Any,
}

impl ClassPattern {
    /// Parses a pattern.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "*" => Some(Self::Any),
            "personal.*" => Some(Self::AnyPersonal),
            "sensitive.*" => Some(Self::AnySensitive),
            _ => Class::parse(text).map(Self::Exact),
        }
    }

    /// Whether `class` matches.
    pub fn matches(self, class: Class) -> bool {
        match self {
            Self::Exact(c) => c == class,
            Self::AnyPersonal => class.kind() == ClassKind::Personal,
            Self::AnySensitive => class.kind() == ClassKind::Sensitive,
            Self::Any => true,
        }
    }

    /// Higher is more specific.
    pub fn specificity(self) -> u8 {
        match self {
            Self::Exact(_) => 2,
            Self::AnyPersonal | Self::AnySensitive => 1,
            Self::Any => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for &c in Class::ALL {
            assert_eq!(Class::parse(c.as_str()), Some(c));
            assert_eq!(Class::ALL[c.index()], c);
        }
    }

    #[test]
    fn patterns_match_by_kind() {
        let p = ClassPattern::parse("personal.*").unwrap();
        assert!(p.matches(Class::Phone));
        assert!(!p.matches(Class::Health));
        assert!(!p.matches(Class::Business));
        assert!(
            ClassPattern::parse("sensitive.*")
                .unwrap()
                .matches(Class::Health)
        );
        assert!(ClassPattern::parse("*").unwrap().matches(Class::Business));
        assert_eq!(ClassPattern::parse("personal.shoe_size"), None);
    }
}
