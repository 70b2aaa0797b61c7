// Links libpglift as `pkg-config --libs libpglift` says (PKG_CONFIG_PATH may point at a build tree's
// meson-uninstalled directory). No crates: the pkg-config crate is not needed for this.
use std::env;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG");
    let pkg_config = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_string());
    let output = Command::new(&pkg_config)
        .args(["--libs", "libpglift"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {}", pkg_config, e));
    if !output.status.success() {
        panic!(
            "`{} --libs libpglift` failed (set PKG_CONFIG_PATH?): {}",
            pkg_config,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let libs = String::from_utf8(output.stdout).expect("pkg-config output is not UTF-8");
    for flag in libs.split_whitespace() {
        if let Some(dir) = flag.strip_prefix("-L") {
            println!("cargo:rustc-link-search=native={}", dir);
        } else if let Some(lib) = flag.strip_prefix("-l") {
            println!("cargo:rustc-link-lib=dylib={}", lib);
        }
    }
}
