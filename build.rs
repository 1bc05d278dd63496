//! Build steps of the pyrt crate:
//! - gives the shared library an soname carrying the major version
//!   (libpyrt.so.0), so programs linked against it record that name.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        let major = std::env::var("CARGO_PKG_VERSION_MAJOR")?;
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libpyrt.so.{major}");
    }
    Ok(())
}
