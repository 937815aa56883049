//! HTTP tests: every case runs on SQLite, and on PostgreSQL when `TEST_POSTGRES_URL` is set.

mod helpers;

mod assessments;
mod audit;
mod auth;
mod budgets;
mod catalog;
mod city;
#[allow(dead_code)] // the bench uses more of it (benches/city.rs)
mod city_data;
mod console;
mod console_admin;
mod console_browser;
mod console_checks;
mod console_council;
mod console_forms;
mod console_invite;
mod console_oidc;
mod console_saving;
mod contracts;
mod duplicates;
mod edge;
mod errors;
#[allow(dead_code)] // the unit tests use the rest (src/sheets)
#[path = "../support/sheet_fixtures.rs"]
mod fixtures;
mod incidents;
mod input;
mod invariants;
mod invitations;
mod jobs;
mod mail;
mod oidc_provider;
mod operations;
mod preconditions;
mod registry;
mod requests;
mod reuse;
mod safeguards;
mod smtp_sink;
mod states;
mod store;
mod surveillance;
mod workbooks;
mod workbooks_excel;
mod workbooks_formats;
mod workbooks_libreoffice;
mod workbooks_openpyxl;
mod workbooks_profiles;
mod workflow;
