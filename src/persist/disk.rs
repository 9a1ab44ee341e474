//! The file operations the journal uses, behind a trait so that tests can
//! make any one of them fail.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

pub(crate) trait Disk: Send + Sync {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// File names in `dir`.
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;
    /// Creates (or truncates) a file for writing.
    fn create(&self, path: &Path) -> io::Result<Box<dyn DiskFile>>;
    /// Opens an existing file to append to.
    fn append(&self, path: &Path) -> io::Result<Box<dyn DiskFile>>;
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Makes file creations, renames and removals in `dir` durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    fn remove(&self, path: &Path) -> io::Result<()>;
}

pub(crate) trait DiskFile: Send {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()>;
    fn sync(&mut self) -> io::Result<()>;
    fn set_len(&mut self, len: u64) -> io::Result<()>;
}

/// The real file system.
pub(crate) struct OsDisk;

impl Disk for OsDisk {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        fs::read(path)
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(dir)? {
            if let Some(name) = entry?.file_name().to_str() {
                names.push(name.to_owned());
            }
        }
        Ok(names)
    }

    fn create(&self, path: &Path) -> io::Result<Box<dyn DiskFile>> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(path)?;
        Ok(Box::new(OsFile(file)))
    }

    fn append(&self, path: &Path) -> io::Result<Box<dyn DiskFile>> {
        // Append mode: every write lands at the end, whatever another
        // handle did, so records are never written over each other.
        let file = OpenOptions::new().append(true).open(path)?;
        Ok(Box::new(OsFile(file)))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        #[cfg(unix)]
        {
            File::open(dir)?.sync_all()
        }
        #[cfg(not(unix))]
        {
            let _ = dir;
            Ok(())
        }
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }
}

struct OsFile(File);

impl DiskFile for OsFile {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.0.write_all(bytes)
    }

    fn sync(&mut self) -> io::Result<()> {
        self.0.sync_data()
    }

    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.0.set_len(len)
    }
}

/// A temporary file name next to `path` that no other writer uses: the
/// process id, a counter and the time.
pub(crate) fn temporary_name(path: &Path) -> std::path::PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let unique = format!(
        ".{name}.tmp-{}-{}-{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    path.with_file_name(unique)
}

/// Writes `bytes` to `path` so that a crash leaves either the old file or
/// the new one: a temporary file in the same directory, synced, renamed
/// over the target, and the directory synced. The rename is the commit
/// point: `Ok(false)` means the rename happened but the directory sync
/// failed (the new file is in place but a power cut may undo it).
pub(crate) fn write_atomic(disk: &dyn Disk, path: &Path, bytes: &[u8]) -> io::Result<bool> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = temporary_name(path);
    let written = (|| {
        let mut file = disk.create(&tmp)?;
        file.write_all(bytes)?;
        file.sync()?;
        drop(file);
        disk.rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = disk.remove(&tmp);
        return Err(e);
    }
    Ok(disk.sync_dir(dir).is_ok())
}

#[cfg(test)]
pub(crate) mod faulty {
    //! A disk that fails the k-th operation of one kind, for fault
    //! injection tests.

    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) enum Kind {
        Create,
        Write,
        Sync,
        SetLen,
        Rename,
        SyncDir,
        Remove,
        /// Opening a file to append to it.
        Append,
        /// Reading a file or listing a directory.
        Read,
    }

    pub(crate) const KINDS: [Kind; 9] = [
        Kind::Create,
        Kind::Write,
        Kind::Sync,
        Kind::SetLen,
        Kind::Rename,
        Kind::SyncDir,
        Kind::Remove,
        Kind::Append,
        Kind::Read,
    ];

    #[derive(Debug, Default)]
    pub(crate) struct Plan {
        /// Fail the operations of these kinds whose counts reach these.
        pub(crate) fail: Vec<(Kind, u64)>,
        pub(crate) counts: Vec<(Kind, u64)>,
        pub(crate) failed: bool,
    }

    impl Plan {
        fn hit(&mut self, kind: Kind) -> io::Result<()> {
            let n = match self.counts.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    self.counts.push((kind, 1));
                    1
                }
            };
            if self.fail.contains(&(kind, n)) {
                self.failed = true;
                return Err(io::Error::other(format!("injected {kind:?} failure #{n}")));
            }
            Ok(())
        }
    }

    #[derive(Clone)]
    pub(crate) struct FaultyDisk(pub(crate) Arc<Mutex<Plan>>);

    impl FaultyDisk {
        fn hit(&self, kind: Kind) -> io::Result<()> {
            self.0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .hit(kind)
        }
    }

    impl Disk for FaultyDisk {
        fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
            self.hit(Kind::Read)?;
            OsDisk.read(path)
        }

        fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
            self.hit(Kind::Read)?;
            OsDisk.list(dir)
        }

        fn create(&self, path: &Path) -> io::Result<Box<dyn DiskFile>> {
            self.hit(Kind::Create)?;
            Ok(Box::new(FaultyFile(OsDisk.create(path)?, self.clone())))
        }

        fn append(&self, path: &Path) -> io::Result<Box<dyn DiskFile>> {
            self.hit(Kind::Append)?;
            Ok(Box::new(FaultyFile(OsDisk.append(path)?, self.clone())))
        }

        fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
            self.hit(Kind::Rename)?;
            OsDisk.rename(from, to)
        }

        fn sync_dir(&self, dir: &Path) -> io::Result<()> {
            self.hit(Kind::SyncDir)?;
            OsDisk.sync_dir(dir)
        }

        fn remove(&self, path: &Path) -> io::Result<()> {
            self.hit(Kind::Remove)?;
            OsDisk.remove(path)
        }
    }

    struct FaultyFile(Box<dyn DiskFile>, FaultyDisk);

    impl DiskFile for FaultyFile {
        fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
            if let Err(e) = self.1.hit(Kind::Write) {
                // A failed write may still have written part of the bytes.
                let half = bytes.get(..bytes.len() / 2).unwrap_or(&[]);
                let _ = self.0.write_all(half);
                return Err(e);
            }
            self.0.write_all(bytes)
        }

        fn sync(&mut self) -> io::Result<()> {
            self.1.hit(Kind::Sync)?;
            self.0.sync()
        }

        fn set_len(&mut self, len: u64) -> io::Result<()> {
            self.1.hit(Kind::SetLen)?;
            self.0.set_len(len)
        }
    }
}
