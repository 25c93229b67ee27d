//! Identifier newtypes that validate their shape when they are parsed.
//!
//! Object ids (accounts, environments, data flows, connections, operations) are 24-hex Mongo
//! ObjectIds; run ids and run group ids are 32-hex UUID4 strings. A malformed id is refused by
//! `FromStr` (and by serde when it is deserialized from input), so no request is ever made with it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Error;
use crate::error::quote;

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

macro_rules! hex_id {
    ($(#[$meta:meta])* $name:ident, $len:expr, $what:expr, $field:expr) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Parses and validates an id.
            pub fn parse(s: &str) -> Result<Self, Error> {
                let t = s.trim();
                if is_hex(t, $len) {
                    Ok(Self(t.to_ascii_lowercase()))
                } else {
                    Err(Error::InvalidInput {
                        field: $field.to_owned(),
                        message: format!(
                            "{} is not a valid {}: expected {} hexadecimal characters",
                            quote(s), $what, $len
                        ),
                    })
                }
            }

            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                Self::parse(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

hex_id!(
    /// An account id (24-hex).
    AccountId, 24, "account id", "account_id"
);
hex_id!(
    /// An environment id (24-hex).
    EnvironmentId, 24, "environment id", "environment_id"
);
hex_id!(
    /// A data flow id, the API's `river_cross_id` / `cross_id` (24-hex).
    DataFlowId, 24, "data flow id", "data_flow_id"
);
hex_id!(
    /// A connection id, its `cross_id` (24-hex).
    ConnectionId, 24, "connection id", "connection_id"
);
hex_id!(
    /// An asynchronous operation id (24-hex).
    OperationId, 24, "operation id", "operation_id"
);
hex_id!(
    /// A run id or a run group id (32-hex); the upstream's get-run path accepts both.
    RunId, 32, "run id", "run_id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_validate_their_shape() {
        assert!(DataFlowId::parse("507f191e810c19729de860ea").is_ok());
        assert_eq!(
            DataFlowId::parse(" 507F191E810C19729DE860EA ")
                .unwrap()
                .as_str(),
            "507f191e810c19729de860ea"
        );
        assert!(DataFlowId::parse("507f191e810c19729de860e").is_err());
        assert!(DataFlowId::parse("507f191e810c19729de860eg").is_err());
        assert!(RunId::parse("5658a1c9ea724ee59f048cbb5a6f734a").is_ok());
        assert!(RunId::parse("507f191e810c19729de860ea").is_err());
        let err = ConnectionId::parse("abc").unwrap_err().to_string();
        assert!(err.contains("24 hexadecimal"), "{err}");
        let parsed: Result<OperationId, _> = serde_json::from_str("\"nope\"");
        assert!(parsed.is_err());
    }

    #[test]
    fn a_huge_id_is_quoted_short_with_its_length() {
        let huge = "z".repeat(10 * 1024 * 1024);
        let err = DataFlowId::parse(&huge).unwrap_err().to_string();
        assert!(err.len() < 400, "{} bytes", err.len());
        assert!(err.contains("…` (10485760 characters)"), "{err}");
        assert!(err.contains("expected 24 hexadecimal characters"), "{err}");
        // Short inputs are quoted whole.
        let err = RunId::parse("abc").unwrap_err().to_string();
        assert!(err.contains("`abc` is not a valid run id"), "{err}");
        // The cut falls on a character boundary.
        let wide = "é".repeat(crate::error::QUOTE_CHARS + 1);
        let err = ConnectionId::parse(&wide).unwrap_err().to_string();
        assert!(
            err.contains(&format!("({} characters)", crate::error::QUOTE_CHARS + 1)),
            "{err}"
        );
    }

    #[test]
    fn an_empty_environment_id_is_refused_not_the_default() {
        use crate::Env;
        assert_eq!(Env::parse(None).unwrap(), Env::Default);
        for blank in ["", "   ", "\t"] {
            let err = Env::parse(Some(blank)).unwrap_err();
            assert!(matches!(&err, Error::InvalidInput { field, .. } if field == "environment_id"));
            assert_eq!(err.next_step(), Some(crate::NextStep::PickEnvironment));
        }
        let id = " 6A7B8C9D0E1F2A3B4C5D6E7F ";
        assert_eq!(
            Env::parse(Some(id)).unwrap(),
            Env::Id(EnvironmentId::parse(id).unwrap())
        );
        assert!(Env::parse(Some("prod")).is_err());
    }
}
