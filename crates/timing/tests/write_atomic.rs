//! `timing::write_atomic` against a hostile folder: whatever is planted beside the target, the
//! write touches no file but its own and leaves a regular file at the path.

use std::fs;
use std::os::unix::fs::symlink;

use timing::testing::scratch_dir;

/// A symlink planted where the temporary file used to go (`.NAME.PID.tmp`, a name anyone could
/// guess) must not make the write go through it: the file it points to keeps its bytes, and the
/// output is a regular file, not the link.
#[test]
fn a_symlink_at_the_old_temporary_name_is_not_followed() {
    let dir = scratch_dir("timing-write-atomic-symlink");
    let victim = dir.join("victim");
    fs::write(&victim, "precious").unwrap();
    let path = dir.join("r.json");
    let planted = dir.join(format!(".r.json.{}.tmp", std::process::id()));
    symlink(&victim, &planted).unwrap();

    timing::write_atomic(&path, b"new bytes").unwrap();

    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
    let meta = fs::symlink_metadata(&path).unwrap();
    assert!(meta.file_type().is_file(), "a regular file: {meta:?}");
    assert_eq!(fs::read(&path).unwrap(), b"new bytes");
    assert!(
        fs::symlink_metadata(&planted)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the planted link is left where it was"
    );
    fs::remove_dir_all(&dir).unwrap();
}

/// The same with a dangling link, which `File::create` would follow to create a file wherever
/// it points.
#[test]
fn a_dangling_symlink_at_the_old_temporary_name_creates_nothing() {
    let dir = scratch_dir("timing-write-atomic-dangling");
    let target = dir.join("elsewhere");
    let path = dir.join("r.json");
    let planted = dir.join(format!(".r.json.{}.tmp", std::process::id()));
    symlink(&target, &planted).unwrap();

    timing::write_atomic(&path, b"new bytes").unwrap();

    assert!(!target.exists(), "nothing is created through the link");
    assert!(fs::symlink_metadata(&path).unwrap().file_type().is_file());
    assert_eq!(fs::read(&path).unwrap(), b"new bytes");
    fs::remove_dir_all(&dir).unwrap();
}

/// Two writers of one path at once (threads of one process share its id): each write lands
/// whole, and no temporary file is left.
#[test]
fn writers_of_one_path_at_once_each_land_whole() {
    let dir = scratch_dir("timing-write-atomic-race");
    let path = dir.join("r.json");
    let contents: Vec<Vec<u8>> = (0..8u8).map(|i| vec![b'a' + i; 64 * 1024]).collect();
    std::thread::scope(|s| {
        for bytes in &contents {
            let path = &path;
            s.spawn(move || {
                for _ in 0..20 {
                    timing::write_atomic(path, bytes).unwrap();
                }
            });
        }
    });
    let last = fs::read(&path).unwrap();
    assert!(contents.contains(&last), "one writer's bytes, whole");
    let left: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["r.json"], "no temporary file left");
    fs::remove_dir_all(&dir).unwrap();
}
