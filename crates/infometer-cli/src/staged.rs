//! All-or-nothing outputs: a file or a folder is prepared beside its target before the work and renamed into place only when everything succeeded.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};

/// A file that will be written at `target`: a temporary file beside it is created when the
/// run starts (so an unwritable path fails before any work) and renamed over the target by
/// [`StagedFile::commit`]; dropped without a commit, it leaves nothing behind.
#[derive(Debug)]
pub struct StagedFile {
    target: PathBuf,
    tmp: PathBuf,
    file: Option<std::fs::File>,
    flag: &'static str,
}

impl StagedFile {
    /// Creates the temporary file beside `target`; `flag` names the option in messages.
    ///
    /// # Errors
    /// One line naming the flag and the path when the folder is missing or not writable.
    pub fn create(target: &Path, flag: &'static str) -> Result<StagedFile> {
        if target.is_dir() {
            bail!("{flag} {}: is a folder; give a file name", target.display());
        }
        let name = target
            .file_name()
            .ok_or_else(|| anyhow!("{flag} {}: needs a file name", target.display()))?
            .to_string_lossy()
            .to_string();
        let parent = parent_of(target);
        let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        let file = std::fs::File::create(&tmp)
            .with_context(|| format!("{flag} {}: cannot write there", target.display()))?;
        Ok(StagedFile {
            target: target.to_path_buf(),
            tmp,
            file: Some(file),
            flag,
        })
    }

    /// Appends bytes to the temporary file.
    ///
    /// # Errors
    /// Any IO error, naming the flag and the target.
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        match self.file.as_mut() {
            Some(f) => f
                .write_all(bytes)
                .with_context(|| format!("{} {}: cannot write", self.flag, self.target.display())),
            None => bail!("{} {}: already committed", self.flag, self.target.display()),
        }
    }

    /// Flushes the temporary file and renames it over the target.
    ///
    /// # Errors
    /// Any IO error, naming the flag and the target.
    pub fn commit(mut self) -> Result<()> {
        let f = self.file.take();
        let res = f
            .map_or(Ok(()), |f| f.sync_all())
            .and_then(|()| std::fs::rename(&self.tmp, &self.target));
        res.with_context(|| format!("{} {}: cannot write", self.flag, self.target.display()))
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        if self.file.is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

fn parent_of(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Refuses, before any work, a `--out` that is a file, or a folder that already holds files
/// (an earlier run's set would mix with this one's) unless `force`.
///
/// # Errors
/// One line naming `--out`.
pub fn check_out_dir(dir: &Path, force: bool) -> Result<()> {
    if !dir.exists() {
        let parent = parent_of(dir);
        if !parent.is_dir() {
            bail!(
                "--out {}: the folder {} does not exist",
                dir.display(),
                parent.display()
            );
        }
        return Ok(());
    }
    if !dir.is_dir() {
        bail!("--out {}: exists and is not a folder", dir.display());
    }
    let mut entries = std::fs::read_dir(dir)
        .with_context(|| format!("--out {}: cannot read the folder", dir.display()))?;
    if entries.next().is_some() && !force {
        bail!(
            "--out {}: the folder already holds files (an earlier run's?); pass --force to replace the whole set",
            dir.display()
        );
    }
    Ok(())
}

/// Writes `files` (name, bytes) into a fresh folder beside `dir` and renames it into place,
/// so a failure leaves nothing and a success leaves exactly these files (an earlier set,
/// allowed by [`check_out_dir`] with `force`, is removed whole). Returns the paths written.
///
/// # Errors
/// One line naming `--out`.
pub fn write_out_dir(dir: &Path, files: &[(&str, Vec<u8>)]) -> Result<Vec<String>> {
    let shown = dir.display();
    let name = dir
        .file_name()
        .ok_or_else(|| anyhow!("--out {shown}: needs a folder name"))?
        .to_string_lossy()
        .to_string();
    let parent = parent_of(dir);
    let pid = std::process::id();
    let tmp = parent.join(format!(".{name}.tmp-{pid}"));
    let _ = std::fs::remove_dir_all(&tmp);
    let staged = (|| -> Result<()> {
        std::fs::create_dir(&tmp)
            .with_context(|| format!("--out {shown}: cannot create a folder beside it"))?;
        for (file, bytes) in files {
            let mut f = std::fs::File::create(tmp.join(file))
                .with_context(|| format!("--out {shown}: cannot write {file}"))?;
            f.write_all(bytes)
                .and_then(|()| f.sync_all())
                .with_context(|| format!("--out {shown}: cannot write {file}"))?;
        }
        Ok(())
    })();
    if let Err(e) = staged {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let swapped = if dir.exists() {
        let old = parent.join(format!(".{name}.old-{pid}"));
        let _ = std::fs::remove_dir_all(&old);
        std::fs::rename(dir, &old)
            .and_then(|()| {
                std::fs::rename(&tmp, dir).inspect_err(|_| {
                    let _ = std::fs::rename(&old, dir);
                })
            })
            .map(|()| {
                let _ = std::fs::remove_dir_all(&old);
            })
    } else {
        std::fs::rename(&tmp, dir)
    };
    if let Err(e) = swapped {
        let _ = std::fs::remove_dir_all(&tmp);
        bail!("--out {shown}: cannot move the results into place: {e}");
    }
    Ok(files
        .iter()
        .map(|(f, _)| dir.join(f).display().to_string())
        .collect())
}
