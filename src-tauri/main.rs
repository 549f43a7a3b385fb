//! The Strongroom desktop app's entry point.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    if let Err(e) = strongroom_app::run() {
        eprintln!("strongroom: {e:#}");
        std::process::exit(1);
    }
}
