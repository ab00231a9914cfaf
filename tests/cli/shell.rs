//! `completions`, `man` and `--version`: generated from the clap definition
//! and checked with the shells and tools installed.

use std::process::Command as Process;

use crate::common::*;

const SUBCOMMANDS: [&str; 6] = ["ingest", "timeline", "stats", "audit", "completions", "man"];

fn completions(shell: &str) -> String {
    let run = Run::from_command(trailhound().args(["completions", shell]));
    assert_eq!(
        run.code,
        Some(0),
        "completions {shell} failed:\n{}",
        run.stderr
    );
    assert!(!run.stdout.is_empty(), "empty {shell} script");
    run.stdout
}

#[test]
fn bash_script_parses() {
    let script = completions("bash");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trailhound.bash");
    std::fs::write(&path, &script).unwrap();
    let status = Process::new("bash")
        .arg("-n")
        .arg(&path)
        .status()
        .expect("bash runs");
    assert!(status.success(), "bash -n rejects the script");
    for name in SUBCOMMANDS {
        assert!(script.contains(name), "bash script lacks {name}");
    }
    assert!(script.contains("--org-accounts"));
}

#[test]
fn bash_script_completes_subcommands() {
    // Source the script and ask its function for the words after `trailhound au`.
    let script = completions("bash");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trailhound.bash");
    std::fs::write(&path, &script).unwrap();
    let probe = format!(
        "source {}; COMP_WORDS=(trailhound au); COMP_CWORD=1; COMP_LINE='trailhound au'; COMP_POINT=13; _trailhound trailhound au trailhound; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        path.display()
    );
    let output = Process::new("bash")
        .arg("-c")
        .arg(&probe)
        .output()
        .expect("bash runs");
    let words = String::from_utf8_lossy(&output.stdout);
    assert!(
        words.lines().any(|word| word == "audit"),
        "no audit in {words:?}; stderr {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn zsh_fish_powershell_scripts() {
    let zsh = completions("zsh");
    assert!(
        zsh.starts_with("#compdef trailhound"),
        "{}",
        &zsh[..40.min(zsh.len())]
    );
    let fish = completions("fish");
    assert!(fish.contains("complete -c trailhound"));
    let powershell = completions("powershell");
    assert!(powershell.contains("Register-ArgumentCompleter"));
    for script in [&zsh, &fish, &powershell] {
        assert!(script.contains("audit"));
        assert!(script.contains("timeline"));
    }
}

#[test]
fn unknown_shell_is_rejected() {
    let run = Run::from_command(trailhound().args(["completions", "tcsh"]));
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("tcsh"), "{}", run.stderr);
}

#[test]
fn man_page_names_every_subcommand() {
    let run = Run::from_command(trailhound().arg("man"));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains(".TH trailhound 1"), "not a roff page");
    for name in SUBCOMMANDS {
        assert!(run.stdout.contains(name), "man page lacks {name}");
    }
}

#[test]
fn man_out_dir_writes_pages() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    let run = Run::from_command(trailhound().arg("man").arg("-o").arg(&out));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(out.join("trailhound.1").is_file());
    for name in SUBCOMMANDS {
        let page = out.join(format!("trailhound-{name}.1"));
        let text = std::fs::read_to_string(&page)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", page.display()));
        assert!(
            text.contains(&format!(".TH trailhound-{name} 1")),
            "{}",
            page.display()
        );
    }
    let audit = std::fs::read_to_string(out.join("trailhound-audit.1")).unwrap();
    assert!(
        audit.contains("org\\-accounts"),
        "audit page lacks --org-accounts"
    );
}

#[test]
fn version_flag() {
    let run = Run::from_command(trailhound().arg("--version"));
    assert_eq!(run.code, Some(0));
    assert_eq!(
        run.stdout.trim(),
        format!("trailhound {}", env!("CARGO_PKG_VERSION"))
    );
}
