//! The crate embeds its migrations with `sqlx::migrate!`, which reads the folder at compile time: without this,
//! Cargo does not rebuild when a migration is added or edited and no Rust file changed, and the binary runs the old
//! set. Every other embedded file (questionnaires, default policy, lexicon, console templates and assets) is named
//! one by one with `include_str!`, which Cargo already tracks.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=build.rs");
}
