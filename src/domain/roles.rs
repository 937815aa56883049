//! The roles a caller may hold. Which role may do what is decided in the workflow planners and the API; how a
//! caller proves a role (a token, a session, an invitation) is `auth`'s business.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, poem_openapi::Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
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
    pub const ALL: [Role; 7] = [
        Role::Buyer,
        Role::Vendor,
        Role::SecurityAnalyst,
        Role::Cio,
        Role::Finance,
        Role::Admin,
        Role::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Buyer => "buyer",
            Role::Vendor => "vendor",
            Role::SecurityAnalyst => "security_analyst",
            Role::Cio => "cio",
            Role::Finance => "finance",
            Role::Admin => "admin",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}
