//! Build steps of the pyrt crate:
//! - gives the shared library an soname carrying the major version
//!   (libpyrt.so.0), so programs linked against it record that name;
//! - compiles proto/messages.proto into Rust (prost) with protox, a protobuf
//!   compiler written in Rust, so building pyrt needs no system protoc. The
//!   generated `py_rt.rs` stays in OUT_DIR and is included by
//!   `rust/messaging/proto.rs`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        let major = std::env::var("CARGO_PKG_VERSION_MAJOR")?;
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libpyrt.so.{major}");
    }
    compile_protos()
}

fn compile_protos() -> Result<(), Box<dyn std::error::Error>> {
    let schema = "proto/messages.proto";
    println!("cargo:rerun-if-changed={schema}");
    let descriptors = protox::compile([schema], ["proto"])?;
    prost_build::Config::new()
        // Ordered maps: a signal's features come out in a stable (sorted) order.
        .btree_map(["."])
        .compile_fds(descriptors)?;
    Ok(())
}
