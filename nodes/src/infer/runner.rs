//! [`ModelRunner`]: one node's model, checked at start, with its session opened for
//! the input size in use, run under the machine's inference slots.

use ooblex_infer::{
    BackendKind, Device, InferenceSlots, Manifest, Model, ModelStore, Session, SessionOptions, Task, Tensor,
    TensorView, open_session,
};
use ooblex_runtime::{NodeError, ParamIssue, did_you_mean};

use crate::infer::picture::{Fit, PictureTensor, Placement, tensor_shape};
use crate::media::raw::RawView;

/// Where and how a node runs its model (the `backend`, `device` and `threads` params).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunOn {
    pub backend: BackendKind,
    pub device: Device,
    pub threads: u32,
}

/// Checks at validation time that `model` names a model for `task`.
pub(crate) fn check_model(model: &str, task: Task) -> Vec<ParamIssue> {
    manifest_for(model, task).err().into_iter().collect()
}

/// The manifest of `model`, or the issue that it is not a model for `task`.
pub(crate) fn manifest_for(model: &str, task: Task) -> Result<Manifest, ParamIssue> {
    let store = ModelStore::discover();
    match store.manifest(model) {
        Ok((_, manifest)) if manifest.task == task => Ok(manifest),
        Ok((path, manifest)) => Err(ParamIssue::new(
            "model",
            format!(
                "`{model}` ({}) is a {} model, not {}",
                path.display(),
                manifest.task.name(),
                task.name()
            ),
        )
        .with_hint(models_of(&store, task))),
        Err(err) => {
            let names = store.names();
            let issue = ParamIssue::new("model", first_line(&err.to_string()));
            Err(match did_you_mean(model, names.iter().map(String::as_str)) {
                Some(close) => issue.with_hint(format!("did you mean `{close}`? {}", models_of(&store, task))),
                None => issue.with_hint(models_of(&store, task)),
            })
        }
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_string()
}

/// "models for face_detection: a, b" for hints.
fn models_of(store: &ModelStore, task: Task) -> String {
    let names: Vec<String> = store
        .list()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|(_, m)| m.task == task)
        .map(|(_, m)| format!("`{}`", m.name))
        .collect();
    if names.is_empty() {
        format!(
            "no {} model is installed; `ooblex models list` shows what is",
            task.name()
        )
    } else {
        format!("{} models: {}", task.name(), names.join(", "))
    }
}

/// A node's model and its open session.
pub(crate) struct ModelRunner {
    kind: &'static str,
    model: Model,
    run_on: RunOn,
    /// The session and the input size it was opened for.
    session: Option<((usize, usize), Box<dyn Session>)>,
    picture: PictureTensor,
}

impl ModelRunner {
    /// Loads and checks model `name` for node kind `kind`; a missing or corrupt model
    /// is a start-up error naming its manifest.
    pub fn open(kind: &'static str, name: &str, task: Task, run_on: RunOn) -> Result<ModelRunner, NodeError> {
        let runner = ModelRunner::open_any(kind, name, run_on)?;
        let found = runner.model.manifest.task;
        if found != task {
            return Err(NodeError::startup(format!(
                "`{kind}`: model `{name}` is a {} model; this node needs a {} model",
                found.name(),
                task.name()
            )));
        }
        Ok(runner)
    }

    /// Like [`ModelRunner::open`], for a model of any task.
    pub fn open_any(kind: &'static str, name: &str, run_on: RunOn) -> Result<ModelRunner, NodeError> {
        let model = ModelStore::discover()
            .load(name)
            .map_err(|e| NodeError::startup(format!("`{kind}`: {e}")))?;
        let mut runner = ModelRunner {
            kind,
            model,
            run_on,
            session: None,
            picture: PictureTensor::default(),
        };
        if let Some(size) = runner.model.manifest.input.fixed_size() {
            runner.session_for(size)?;
        }
        Ok(runner)
    }

    /// The model's manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.model.manifest
    }

    /// The input size for a `frame_w` x `frame_h` frame: the model's fixed size, or the
    /// frame scaled down so its long side is at most `long_side` (when given), rounded up
    /// to the model's `multiple_of`.
    pub fn input_size(&self, (frame_w, frame_h): (usize, usize), long_side: Option<usize>) -> (usize, usize) {
        let input = &self.model.manifest.input;
        if let Some(size) = input.fixed_size() {
            return size;
        }
        let scale = long_side.map_or(1.0, |side| (side as f32 / frame_w.max(frame_h) as f32).min(1.0));
        let round = |v: usize| {
            ((v as f32 * scale).round() as usize)
                .max(1)
                .next_multiple_of(input.multiple_of)
        };
        (round(frame_w), round(frame_h))
    }

    fn session_for(&mut self, size: (usize, usize)) -> Result<&mut Box<dyn Session>, NodeError> {
        if self.session.as_ref().is_none_or(|(open, _)| *open != size) {
            let input = &self.model.manifest.input;
            let mut input_shapes = vec![(input.name.clone(), tensor_shape(input.layout, size))];
            if let Some(style) = &self.model.manifest.style_input {
                input_shapes.push((style.name.clone(), vec![style.count]));
            }
            let options = SessionOptions {
                device: self.run_on.device,
                threads: self.run_on.threads as usize,
                input_shapes,
            };
            let session = open_session(self.run_on.backend, &self.model, &options)
                .map_err(|e| NodeError::startup(format!("`{}`: {e}", self.kind)))?;
            tracing::debug!(model = self.model.name(), ?size, "opened a session");
            self.session = Some((size, session));
        }
        Ok(&mut self.session.as_mut().expect("the session was just opened").1)
    }

    /// Runs the model on `view` fitted into a `size` input, with `extra` inputs
    /// (style weights); returns the outputs in manifest order and where the frame landed.
    pub fn run(
        &mut self,
        view: &RawView<'_>,
        size: (usize, usize),
        fit: Fit,
        extra: &[(&str, TensorView<'_>)],
    ) -> Result<(Vec<Tensor>, Placement), NodeError> {
        let manifest = self.model.manifest.clone();
        let input = &manifest.input;
        let placement = self.picture.fill(view, input, size, fit)?;
        let data = std::mem::take(&mut self.picture.data);
        let shape = tensor_shape(input.layout, size);
        let kind = self.kind;
        let result = (|| {
            let session = self.session_for(size)?;
            let mut inputs = vec![(
                input.name.as_str(),
                TensorView {
                    shape: &shape,
                    data: &data,
                },
            )];
            inputs.extend_from_slice(extra);
            let _slot = InferenceSlots::global().acquire();
            session
                .run(&inputs)
                .map_err(|e| NodeError::failed(format!("`{kind}`: {e}")))
        })();
        self.picture.data = data;
        let outputs = result?;
        let expected = self.model.manifest.outputs.len();
        if outputs.len() != expected {
            return Err(NodeError::failed(format!(
                "`{kind}`: model `{}` gave {} outputs, its manifest lists {expected}",
                self.model.name(),
                outputs.len()
            )));
        }
        Ok((outputs, placement))
    }
}
