//! Dense `f32` tensors: what goes into a model and what comes out.

/// An owned, row-major `f32` tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// `shape.iter().product()` values, row-major.
    pub data: Vec<f32>,
}

impl Tensor {
    /// A tensor of `shape` holding `data`.
    ///
    /// Panics if `data.len()` is not the product of `shape` (a caller's broken invariant).
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Tensor {
        assert_eq!(
            shape.iter().product::<usize>(),
            data.len(),
            "tensor data does not fill shape {shape:?}"
        );
        Tensor { shape, data }
    }

    /// A borrowed view of this tensor.
    pub fn view(&self) -> TensorView<'_> {
        TensorView {
            shape: &self.shape,
            data: &self.data,
        }
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the tensor holds no values.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// A borrowed tensor, as passed to [`crate::Session::run`].
#[derive(Debug, Clone, Copy)]
pub struct TensorView<'a> {
    /// Dimensions, outermost first.
    pub shape: &'a [usize],
    /// Row-major values.
    pub data: &'a [f32],
}
