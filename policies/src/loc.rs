//! Values that remember where they were written, for error messages.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A value read from YAML with its 1-based line and column.
///
/// Serializes as the bare value (so the content hash of a policy set does not depend on
/// layout) and has the JSON Schema of the bare value.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Loc<T> {
    /// The value.
    pub value: T,
    /// 1-based line; 0 when the value was not read from a file.
    pub line: u32,
    /// 1-based column; 0 when the value was not read from a file.
    pub column: u32,
}

impl<T> Loc<T> {
    /// A value that was not read from a file.
    pub fn bare(value: T) -> Self {
        Self {
            value,
            line: 0,
            column: 0,
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Loc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}@{}:{}", self.value, self.line, self.column)
    }
}

impl<T> std::ops::Deref for Loc<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Loc<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = serde_saphyr::Spanned::<T>::deserialize(d)?;
        Ok(Self {
            value: spanned.value,
            line: u32::try_from(spanned.referenced.line()).unwrap_or(u32::MAX),
            column: u32::try_from(spanned.referenced.column()).unwrap_or(u32::MAX),
        })
    }
}

impl<T: Serialize> Serialize for Loc<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

impl<T: schemars::JsonSchema> schemars::JsonSchema for Loc<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }

    fn inline_schema() -> bool {
        T::inline_schema()
    }
}
