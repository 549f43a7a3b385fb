//! The Strongroom desktop app's entry point.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    if let Err(e) = strongroom_client::protect_process_memory() {
        eprintln!("strongroom: cannot protect the process's memory: {e}");
        std::process::exit(1);
    }
    // SAFETY: first thing in `main`, before any thread starts.
    unsafe { strongroom_app::gl::keep_gl_out_of_this_process() };
    if let Err(e) = strongroom_app::run() {
        eprintln!("strongroom: {e:#}");
        std::process::exit(1);
    }
}
