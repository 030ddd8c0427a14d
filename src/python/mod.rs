//! `rcrop._rcrop`, the extension module under the Python package `rcrop`
//! (`python/rcrop/`), built by maturin with the `python` feature. Each
//! function takes the crop as the command line's flags, read by the command
//! line's own parser, so that a Python call and a command line mean one
//! thing; the package's Python code turns keywords into those flags and
//! documents the API. The GIL is released while rcrop works.

mod array;
mod errors;

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Mutex;

use clap::Parser;
use numpy::{PyArray1, PyArrayDescrMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::autocast;
use crate::batch::{Outcome, Watch, run as run_batch};
use crate::cli::Flags;
use crate::cli::plan::{Plan, Task};
use crate::cli::print::report::Report;
use crate::cli::run::prepare;
use crate::input::Input;
use crate::job::{Job, choose, image_format, load_cropped};
use crate::layer::{Layer, Shape, Window};
use crate::{DataFormat, Error};
use errors::{FileError, to_py};

#[pymodule]
fn _rcrop(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("FileError", m.py().get_type::<FileError>())?;
    m.add_function(wrap_pyfunction!(main, m)?)?;
    m.add_function(wrap_pyfunction!(crop, m)?)?;
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    Ok(())
}

/// The command line `argv` (the program's name first) run as the `rcrop`
/// binary runs it; returns its exit status.
#[pyfunction]
fn main(py: Python<'_>, argv: Vec<OsString>) -> u8 {
    py.detach(|| {
        let status = crate::cli::main(argv);
        // Rust flushes standard output when its own `main` returns; here Python ends the process.
        let _ = std::io::Write::flush(&mut std::io::stdout());
        status
    })
}

/// The flags `args` read by the command line's parser; what it refuses is
/// a `ValueError` carrying its message.
fn flags(args: Vec<String>) -> PyResult<Flags> {
    let argv = std::iter::once("rcrop".to_string()).chain(args);
    Flags::try_parse_from(argv).map_err(|e| {
        let text = e.render().to_string();
        let message = text.split("\n\n").next().unwrap_or(&text);
        PyValueError::new_err(message.trim_start_matches("error: ").trim().to_string())
    })
}

/// `x`, C- or Fortran-contiguous, cropped by the layer the flags `args`
/// give for its rank, into a new array of its dtype and memory order.
#[pyfunction]
fn crop<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyUntypedArray>,
    args: Vec<String>,
) -> PyResult<Bound<'py, PyAny>> {
    let flags = flags(args)?;
    let (choice, _) = flags.layer_choice().map_err(to_py)?;
    let dims = x.shape().to_vec();
    let value_error = |e: &dyn std::fmt::Display| PyValueError::new_err(e.to_string());
    let layer = choice
        .for_shape(&Shape::known(&dims))
        .map_err(|e| value_error(&e))?;
    let kept = layer.kept_ranges(&dims).map_err(|e| value_error(&e))?;
    let fortran = !x.is_c_contiguous();
    if fortran && !x.is_fortran_contiguous() {
        return Err(PyValueError::new_err(
            "the array is neither C- nor Fortran-contiguous",
        ));
    }
    // The cast Keras' layer makes of this dtype, with --autocast.
    let cast = match autocast::compute(flags.autocast, None).map_err(|e| value_error(&e))? {
        Some(to) => {
            let dtype: String = x.dtype().getattr("str")?.extract()?;
            let center_crop = matches!(layer, Layer::CenterCrop(_));
            autocast::array_cast(Some(&dtype), to, center_crop).map_err(|e| value_error(&e))?
        }
        None => None,
    };
    let out_dims: Vec<usize> = kept.iter().map(|r| r.len()).collect();
    let out = empty(py, &out_dims, x.dtype().into_any(), fortran)?;
    let itemsize = x.dtype().itemsize();
    let size = |dims: &[usize], itemsize: usize| dims.iter().product::<usize>() * itemsize;
    // SAFETY: both arrays are contiguous (checked above; `out` is new) and
    // hold the product of their dimensions times `itemsize` bytes; `out` is
    // referenced nowhere else yet, so nothing else reads or writes it.
    let (src, dst) = unsafe {
        (
            array::bytes(x, size(&dims, itemsize)),
            array::bytes_mut(out.cast::<PyUntypedArray>()?, size(&out_dims, itemsize)),
        )
    };
    let window = Window {
        dims: &dims,
        kept: &kept,
        itemsize,
        fortran,
    };
    py.detach(|| window.copy(src, dst));
    let Some(cast) = cast else {
        return Ok(out);
    };
    let descr = cast.to().descr();
    let cast_out = empty(py, &out_dims, descr.into_pyobject(py)?.into_any(), fortran)?;
    let cast_len = size(&out_dims, cast.sizes().1);
    // SAFETY: `cast_out` is new, contiguous, of `cast_len` bytes, and
    // referenced nowhere else yet; `dst` is `out`'s, which nothing else holds.
    let cast_dst = unsafe { array::bytes_mut(cast_out.cast::<PyUntypedArray>()?, cast_len) };
    py.detach(|| {
        let mut converted = Vec::with_capacity(cast_len);
        // Element by element, so either memory order is kept.
        cast.convert(dst, &mut converted);
        cast_dst.copy_from_slice(&converted);
    });
    Ok(cast_out)
}

/// A new NumPy array of `dims` and `dtype`, in C or (`fortran`) Fortran order.
fn empty<'py>(
    py: Python<'py>,
    dims: &[usize],
    dtype: Bound<'py, PyAny>,
    fortran: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let kwargs = PyDict::new(py);
    kwargs.set_item("dtype", dtype)?;
    kwargs.set_item("order", if fortran { "F" } else { "C" })?;
    py.import("numpy")?
        .getattr("empty")?
        .call((dims.to_vec(),), Some(&kwargs))
}

/// An image's bytes, its shape and its NumPy type string.
type Image<'py> = (Bound<'py, PyArray1<u8>>, Vec<usize>, &'static str);

/// The image at `path` decoded as Keras' `load_img` and `img_to_array` do,
/// with the color mode of the flags `args`, cropped by their layer:
/// its bytes, its shape (3D, in the layer's data format) and its NumPy type string.
#[pyfunction]
fn load<'py>(py: Python<'py>, path: PathBuf, args: Vec<String>) -> PyResult<Image<'py>> {
    let flags = flags(args)?;
    let (choice, format) = flags.layer_choice().map_err(to_py)?;
    let input = Input::Path(path);
    let options = flags.options(None, format.map(|f| f.origin));
    let loaded = py.detach(|| {
        let layer = choose(&input, &choice, &Shape::unknown(4))?;
        let format = image_format(&layer);
        let tensor = load_cropped(&input, &layer, &options)?;
        let dims = tensor.shape(format).dims().unwrap_or_default();
        let descr = tensor.sample_type().descr();
        let bytes = match format {
            // Already in storage order: handed over, not copied.
            DataFormat::ChannelsLast => tensor.into_le_bytes(),
            DataFormat::ChannelsFirst => tensor.to_bytes(format),
        };
        Ok::<_, Error>((bytes, dims, descr))
    });
    let (bytes, dims, descr) = loaded.map_err(to_py)?;
    let shape = dims.get(1..).unwrap_or_default().to_vec();
    Ok((PyArray1::from_vec(py, bytes), shape, descr))
}

/// The jobs of the command line `args` run, as a batch runs them; returns
/// the record `--report json` prints for each, as JSON, or raises the first
/// failure unless the flags say to keep going.
#[pyfunction]
fn run(py: Python<'_>, args: Vec<String>) -> PyResult<Vec<String>> {
    let plan = Plan::new(&flags(args)?).map_err(to_py)?;
    let Task::Jobs { jobs, dry_run } = &plan.task else {
        return Err(PyValueError::new_err("these options do not crop files"));
    };
    let keep = Keep {
        report: Report::new(plan.data_format.clone()),
        jobs,
        records: Mutex::new(Vec::with_capacity(jobs.len())),
    };
    let outcomes = py.detach(|| {
        let settings = prepare(&plan, jobs, *dry_run)?;
        let action = |job: &Job| if *dry_run { job.inspect() } else { job.run() };
        run_batch(jobs, settings, action, &keep)
    });
    let failure = outcomes.map_err(to_py)?.into_iter().find_map(|o| match o {
        Outcome::Failed(e) => Some(e),
        _ => None,
    });
    match failure {
        Some(e) if !plan.keep_going => Err(to_py(e)),
        _ => Ok(keep.records.into_inner().unwrap_or_else(|p| p.into_inner())),
    }
}

/// The records of a batch, kept in input order as its jobs are settled.
struct Keep<'a> {
    report: Report,
    jobs: &'a [Job],
    records: Mutex<Vec<String>>,
}

impl Watch for Keep<'_> {
    fn ended(&self, _: usize, _: &Outcome) {}

    fn settled(&self, index: usize, outcome: &Outcome) {
        let record = self.report.record(&self.jobs[index], outcome).to_string();
        let mut records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        records.push(record);
    }
}
