//! What the vault's benches share.

pub mod practice;
