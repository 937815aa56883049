//! Questionnaire templates: read and validated from `questionnaires/*.toml` at start (a broken template stops
//! the service, naming the file, question and fault), registered in the database by content hash, and looked
//! up by id and version, including versions that are no longer on disk.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use anyhow::Context;

use crate::domain::questionnaire::{Template, load_dir};
use crate::error::ApiError;
use crate::store::Store;

pub struct Templates {
    current: Vec<Arc<Template>>,
    by_version: RwLock<HashMap<(String, String), Arc<Template>>>,
}

impl Templates {
    /// Reads every template in `dir`, refusing to start on any fault, and records each version.
    pub async fn load(dir: &Path, store: &Store) -> anyhow::Result<Templates> {
        let checked = load_dir(dir).map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut current = Vec::new();
        let mut by_version = HashMap::new();
        for template in checked {
            // `load_dir` names each template by the path it found it at, `dir` included.
            let path = PathBuf::from(template.file_name());
            let source = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            store
                .register_template(
                    &template.id,
                    template.version(),
                    template.file_name(),
                    &source,
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

    /// The templates on disk now, sorted by id.
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
