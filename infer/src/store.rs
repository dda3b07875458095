//! Finding models by name and handing out files whose sha256 was checked.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use crate::error::InferError;
use crate::manifest::Manifest;

/// A model whose file exists and matches its manifest's sha256.
#[derive(Debug, Clone)]
pub struct Model {
    /// The manifest.
    pub manifest: Arc<Manifest>,
    /// Where the manifest is.
    pub manifest_path: PathBuf,
    /// The checked model file.
    pub file: PathBuf,
}

impl Model {
    /// The model's name.
    pub fn name(&self) -> &str {
        &self.manifest.name
    }
}

/// The directories models are looked up in, in order.
#[derive(Debug, Clone)]
pub struct ModelStore {
    dirs: Vec<PathBuf>,
}

impl ModelStore {
    /// A store over exactly these directories.
    pub fn new(dirs: Vec<PathBuf>) -> ModelStore {
        ModelStore { dirs }
    }

    /// The default search path: each directory in `OOBLEX_MODELS` (separated like `PATH`),
    /// then `models/` in the working directory, then the `models/` folder of the source
    /// tree this binary was built from.
    pub fn discover() -> ModelStore {
        let mut dirs: Vec<PathBuf> = std::env::var_os("OOBLEX_MODELS")
            .map(|v| std::env::split_paths(&v).collect())
            .unwrap_or_default();
        dirs.push(PathBuf::from("models"));
        dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../models"));
        let mut seen = Vec::new();
        dirs.retain(|d| {
            let key = d.canonicalize().unwrap_or_else(|_| d.clone());
            let new = !seen.contains(&key);
            seen.push(key);
            new
        });
        ModelStore { dirs }
    }

    /// The directories searched.
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// The manifest path for `name`: a model name, or a path to a `.yaml` manifest.
    pub fn manifest_path(&self, name: &str) -> Result<PathBuf, InferError> {
        if name.ends_with(".yaml") || name.ends_with(".yml") || name.contains('/') {
            let path = PathBuf::from(name);
            return if path.is_file() {
                Ok(path)
            } else {
                Err(self.unknown(name))
            };
        }
        self.dirs
            .iter()
            .map(|dir| dir.join(format!("{name}.yaml")))
            .find(|p| p.is_file())
            .ok_or_else(|| self.unknown(name))
    }

    /// The parsed manifest of `name`.
    pub fn manifest(&self, name: &str) -> Result<(PathBuf, Manifest), InferError> {
        let path = self.manifest_path(name)?;
        let manifest = Manifest::read(&path)?;
        Ok((path, manifest))
    }

    /// The model `name` with its file checked against the manifest's sha256.
    /// The digest of an unchanged file is computed once per process.
    pub fn load(&self, name: &str) -> Result<Model, InferError> {
        let (manifest_path, manifest) = self.manifest(name)?;
        let file = manifest_path.parent().unwrap_or(Path::new(".")).join(&manifest.file);
        if !file.is_file() {
            let hint = match &manifest.url {
                Some(_) => format!("download it with `ooblex models fetch {}`", manifest.name),
                None => format!("restore it from the repository (`git checkout -- {}`)", file.display()),
            };
            return Err(InferError::MissingFile {
                manifest: manifest_path,
                file,
                hint,
            });
        }
        let found = sha256_of(&file)?;
        if found != manifest.sha256 {
            return Err(InferError::Corrupt {
                name: manifest.name.clone(),
                manifest: manifest_path,
                file,
                expected: manifest.sha256.clone(),
                found,
            });
        }
        Ok(Model {
            manifest: Arc::new(manifest),
            manifest_path,
            file,
        })
    }

    /// Every manifest in the store, by name, first directory winning; unreadable ones as errors.
    pub fn list(&self) -> Vec<Result<(PathBuf, Manifest), InferError>> {
        let mut names = Vec::new();
        let mut out = Vec::new();
        for dir in &self.dirs {
            let Ok(entries) = std::fs::read_dir(dir) else { continue };
            let mut paths: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
                .collect();
            paths.sort();
            for path in paths {
                let stem = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if names.contains(&stem) {
                    continue;
                }
                names.push(stem);
                out.push(Manifest::read(&path).map(|m| (path, m)));
            }
        }
        out
    }

    /// Names of every model in the store.
    pub fn names(&self) -> Vec<String> {
        self.list()
            .into_iter()
            .filter_map(|m| m.ok().map(|(_, m)| m.name))
            .collect()
    }

    fn unknown(&self, name: &str) -> InferError {
        let names = self.names();
        let suggestion = names
            .iter()
            .map(|n| (strsim::levenshtein(n, name), n))
            .filter(|(d, _)| *d <= 3)
            .min()
            .map(|(_, n)| format!("; did you mean `{n}`?"))
            .unwrap_or_default();
        let searched = self
            .dirs
            .iter()
            .map(|d| format!("`{}`", d.display()))
            .collect::<Vec<_>>()
            .join(", ");
        InferError::UnknownModel {
            name: name.to_string(),
            searched,
            suggestion,
        }
    }
}

/// Digests already computed, keyed by path and checked against size and mtime.
type DigestCache = Mutex<HashMap<PathBuf, (u64, Option<SystemTime>, String)>>;

/// The lowercase hex sha256 of `path`, cached while the file is unchanged.
pub fn sha256_of(path: &Path) -> Result<String, InferError> {
    static CACHE: OnceLock<DigestCache> = OnceLock::new();
    let io = |source| InferError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    let stamp = (meta.len(), meta.modified().ok());
    let cache = CACHE.get_or_init(Default::default);
    if let Some((len, modified, digest)) = cache.lock().expect("digest cache lock is never poisoned").get(path)
        && (*len, *modified) == stamp
    {
        return Ok(digest.clone());
    }
    let mut hasher = Sha256::new();
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut chunk = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut chunk).map_err(io)?;
        if n == 0 {
            break;
        }
        hasher.update(&chunk[..n]);
    }
    let digest: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    cache
        .lock()
        .expect("digest cache lock is never poisoned")
        .insert(path.to_path_buf(), (stamp.0, stamp.1, digest.clone()));
    Ok(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with(manifest: &str, file: &[u8]) -> (PathBuf, ModelStore) {
        let dir = std::env::temp_dir().join(format!("ooblex-store-{}-{}", std::process::id(), file.len()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("m.yaml"), manifest).expect("write manifest");
        std::fs::write(dir.join("m.onnx"), file).expect("write model");
        (dir.clone(), ModelStore::new(vec![dir]))
    }

    fn manifest(sha: &str) -> String {
        format!(
            "name: m\ndescription: d\ntask: generic\nfile: m.onnx\nsha256: {sha}\nlicence: MIT\nlicence_file: L\nsource: s\n\
             input: {{ name: x, layout: nchw, channels: rgb, mean: [0, 0, 0], std: [1, 1, 1] }}\noutputs: [{{ name: y, meaning: z }}]\n"
        )
    }

    #[test]
    fn a_matching_file_loads_and_a_changed_one_is_refused() {
        // sha256("abc")
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let (dir, store) = store_with(&manifest(abc), b"abc");
        assert_eq!(store.load("m").expect("digest matches").file, dir.join("m.onnx"));
        std::fs::write(dir.join("m.onnx"), b"abd").expect("rewrite model");
        let err = store.load("m").expect_err("digest differs");
        assert!(matches!(err, InferError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("m.yaml"), "names the manifest: {err}");
        std::fs::remove_file(dir.join("m.onnx")).expect("remove model");
        let err = store.load("m").expect_err("file missing");
        assert!(
            matches!(err, InferError::MissingFile { .. }) && err.to_string().contains("m.yaml"),
            "{err}"
        );
    }

    #[test]
    fn an_unknown_name_suggests_a_close_one() {
        let (_dir, store) = store_with(&manifest(&"0".repeat(64)), b"abcd");
        let err = store.load("n").expect_err("no such model");
        assert!(err.to_string().contains("did you mean `m`"), "{err}");
    }
}
