//! Questionnaire templates: the ones built into the binary (`questionnaires/*.toml`) or a configured folder's,
//! validated at start (a broken template stops the service, naming the file, question and fault), registered in
//! the database by content hash, and looked up by id and version, including versions no longer in use.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use anyhow::Context;

use crate::domain::questionnaires::{SHIPPED, Template, from_sources};
use crate::error::ApiError;
use crate::store::Store;

pub struct Templates {
    current: Vec<Arc<Template>>,
    by_version: RwLock<HashMap<(String, String), Arc<Template>>>,
}

/// The `(file name, text)` of every `*.toml` file in `dir`, sorted by file name so that which of two faulty files
/// is reported does not depend on the file system's order.
pub fn read_dir(dir: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry
            .with_context(|| format!("reading {}", dir.display()))?
            .path();
        if path.is_file() && path.extension().is_some_and(|ext| ext == "toml") {
            paths.push(path);
        }
    }
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("{}: not readable as UTF-8 text", path.display()))?;
            Ok((path.display().to_string(), text))
        })
        .collect()
}

impl Templates {
    /// Checks the templates — those of `dir` when one is configured, else the ones compiled into the binary —
    /// refusing to start on any fault, and records each version.
    pub async fn load(dir: Option<&Path>, store: &Store) -> anyhow::Result<Templates> {
        let sources = match dir {
            Some(dir) => read_dir(dir)?,
            None => SHIPPED
                .iter()
                .map(|(file, text)| (file.to_string(), text.to_string()))
                .collect(),
        };
        let sources: Vec<(&str, &str)> = sources
            .iter()
            .map(|(f, t)| (f.as_str(), t.as_str()))
            .collect();
        let texts: HashMap<&str, &str> = sources.iter().copied().collect();
        let checked = from_sources(sources).map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut current = Vec::new();
        let mut by_version = HashMap::new();
        for template in checked {
            store
                .register_template(
                    &template.id,
                    template.version(),
                    template.file_name(),
                    texts[template.file_name()],
                )
                .await
                .map_err(|e| anyhow::anyhow!("recording template {}: {e}", template.id))?;
            let template = Arc::new(template);
            by_version.insert(
                (template.id.clone(), template.version().to_string()),
                template.clone(),
            );
            current.push(template);
        }
        Ok(Templates {
            current,
            by_version: RwLock::new(by_version),
        })
    }

    /// The templates in use, sorted by id.
    pub fn current(&self) -> &[Arc<Template>] {
        &self.current
    }

    pub fn current_of(&self, id: &str) -> Option<&Arc<Template>> {
        self.current.iter().find(|t| t.id == id)
    }

    /// A template at a given version, from memory or from the versions the database keeps.
    pub async fn version(
        &self,
        store: &Store,
        id: &str,
        version: &str,
    ) -> Result<Arc<Template>, ApiError> {
        let key = (id.to_string(), version.to_string());
        if let Some(t) = self
            .by_version
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(t.clone());
        }
        let (file_name, source) = store.template_source(id, version).await?.ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!(
                "template {id} version {version} is not recorded"
            ))
        })?;
        let template = Arc::new(Template::from_toml(&file_name, &source).map_err(|e| {
            ApiError::Internal(anyhow::anyhow!("recorded template {id}@{version}: {e}"))
        })?);
        self.by_version
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, template.clone());
        Ok(template)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory under the system temp dir, removed when dropped.
    struct ScratchDir(std::path::PathBuf);

    impl ScratchDir {
        fn new(name: &str) -> ScratchDir {
            let path =
                std::env::temp_dir().join(format!("templates-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path).unwrap();
            ScratchDir(path)
        }

        fn write(&self, file: &str, text: &[u8]) {
            std::fs::write(self.0.join(file), text).unwrap();
        }
    }

    impl Drop for ScratchDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn a_directory_gives_its_toml_files_sorted_by_name_and_skips_the_rest() {
        let dir = ScratchDir::new("sorted");
        dir.write("b.toml", b"id = 'b'");
        dir.write("a.toml", b"id = 'a'");
        dir.write("README.md", b"not a template");
        let files: Vec<String> = read_dir(&dir.0)
            .unwrap()
            .into_iter()
            .map(|(file, _)| file)
            .collect();
        let path = |f: &str| dir.0.join(f).display().to_string();
        assert_eq!(files, vec![path("a.toml"), path("b.toml")]);
    }

    #[test]
    fn a_file_that_is_not_utf8_is_refused_naming_it() {
        let dir = ScratchDir::new("latin1");
        dir.write("x.toml", b"title = '\xe9'");
        let message = format!("{:#}", read_dir(&dir.0).unwrap_err());
        assert!(
            message.contains("x.toml: not readable as UTF-8 text"),
            "{message}"
        );
    }

    /// The binary carries the templates of `questionnaires/`, all of them and as they are on disk.
    #[test]
    fn the_shipped_templates_are_exactly_the_questionnaires_directory() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("questionnaires");
        let on_disk: Vec<(String, String)> = read_dir(&dir)
            .unwrap()
            .into_iter()
            .map(|(file, text)| {
                let name = Path::new(&file)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                (format!("questionnaires/{name}"), text)
            })
            .collect();
        let shipped: Vec<(String, String)> = SHIPPED
            .iter()
            .map(|(file, text)| (file.to_string(), text.to_string()))
            .collect();
        assert_eq!(shipped, on_disk);
    }
}
