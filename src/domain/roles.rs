//! The roles a caller may hold. Which role may do what is decided in the workflow planners and the API; how a
//! caller proves a role (a token, a session, an invitation) is `auth`'s business.

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    poem_openapi::Enum,
)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum Role {
    Buyer,
    Vendor,
    SecurityAnalyst,
    Cio,
    Finance,
    Admin,
    Auditor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}
