//! Keeps OpenGL out of the window's process (Linux): about 60 MiB resident.
//!
//! The page is drawn by WebKit's web process, which keeps its own OpenGL (hardware
//! accelerated where there is a GPU). The app's process (the Rust core, Tauri, WebKitGTK's
//! UI side) only shows what the web process drew, but two things in it open OpenGL anyway:
//! GTK probes GLX when it opens the display, and WebKitGTK opens an EGL display when its
//! web context is made. Either one loads Mesa's driver, and with it `libLLVM` (Mesa's
//! drivers link it on Debian and most distributions, GPU or none): 46 MiB resident in the
//! process from loading it alone, plus the driver's own pages. Without them, the web
//! process hands its frames over in shared memory instead of as GPU buffers.
//!
//! So, before anything else starts ([`keep_gl_out_of_this_process`]), unless
//! `STRONGROOM_UI_GL=1`:
//! - GTK's probe is turned off (`GDK_GL=disable`, read when GTK starts);
//! - libglvnd, the EGL dispatcher every distribution uses, loads its list of EGL drivers
//!   once per process, on the first EGL call. It is made to do that now, with the list
//!   pointed at no file (`__EGL_VENDOR_LIBRARY_FILENAMES`), so this process has none; the
//!   variable is then put back as it was, so the web process (started later, with this
//!   process's environment) finds the drivers and draws with OpenGL as before.
//!
//! `STRONGROOM_UI_GL=1` keeps OpenGL in this process, as WebKitGTK has it by default. One
//! thing is known to need it: WebKit's own snapshot of the view (what WebDriver's Take
//! Screenshot returns), which waits for a presentation update that, with frames in shared
//! memory, sometimes never comes. Nothing the app does takes such a snapshot; the end-to-end
//! tests take theirs from the X server instead. Where the EGL library is not libglvnd, the
//! variable means nothing to it and the display it opens is never initialised: nothing
//! changes.

/// Whether OpenGL is to be kept out of this process: unless `STRONGROOM_UI_GL=1` (see the
/// module's documentation).
fn wanted() -> bool {
    std::env::var_os("STRONGROOM_UI_GL").is_none_or(|v| v != "1")
}

/// Keeps OpenGL out of this process unless `STRONGROOM_UI_GL=1`.
///
/// # Safety
///
/// It changes the process's environment, so no other thread may be running: call it first
/// thing in `main`.
#[cfg(target_os = "linux")]
pub unsafe fn keep_gl_out_of_this_process() {
    if !wanted() {
        return;
    }
    // SAFETY (both `set_var`s and the `remove_var`): the caller promises one thread.
    unsafe {
        if std::env::var_os("GDK_GL").is_none() {
            std::env::set_var("GDK_GL", "disable");
        }
        const VENDORS: &str = "__EGL_VENDOR_LIBRARY_FILENAMES";
        let before = std::env::var_os(VENDORS);
        std::env::set_var(VENDORS, "/nonexistent/strongroom-no-egl-vendor.json");
        load_no_egl_vendor();
        match before {
            Some(v) => std::env::set_var(VENDORS, v),
            None => std::env::remove_var(VENDORS),
        }
    }
}

#[cfg(not(target_os = "linux"))]
pub unsafe fn keep_gl_out_of_this_process() {}

/// Makes libglvnd load its EGL drivers now: `eglGetDisplay(EGL_DEFAULT_DISPLAY)`, whose
/// answer (no display, there being no driver) is not needed. The library stays loaded.
#[cfg(target_os = "linux")]
fn load_no_egl_vendor() {
    // SAFETY: dlopen and dlsym are given NUL-terminated names; the symbol, when found, is
    // EGL's `EGLDisplay eglGetDisplay(EGLNativeDisplayType)`, called with a null display
    // (EGL_DEFAULT_DISPLAY) as its specification allows.
    unsafe {
        let lib = libc::dlopen(c"libEGL.so.1".as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL);
        if lib.is_null() {
            return;
        }
        let sym = libc::dlsym(lib, c"eglGetDisplay".as_ptr());
        if sym.is_null() {
            return;
        }
        let get_display: extern "C" fn(*mut libc::c_void) -> *mut libc::c_void =
            std::mem::transmute(sym);
        get_display(std::ptr::null_mut());
    }
}
