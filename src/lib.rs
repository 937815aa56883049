//! procurement-review: the security review and approval routing of a city's technology purchases.
//!
//! Layers: `api` (HTTP, thin) -> `store` (transactions: load, apply a plan, store, audit) -> `workflow` (pure
//! planners: state + actor + command -> changes or a refusal naming the rule) -> `domain` (pure rules and
//! types). `startup` wires them; `cli` is what `main` runs.

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod console;
pub mod detection;
pub mod domain;
pub mod edge;
pub mod error;
pub mod jobs;
pub mod mailer;
pub mod metrics;
pub mod sheets;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod templates;
pub mod tls;
pub mod workflow;
