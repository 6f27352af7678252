//! Model files in safetensors with PyTorch's layout: the state dict of
//! `torch.nn.Sequential(Linear, act, Linear, act, ..., Linear)`, keys `0.weight`, `0.bias`,
//! `2.weight`, ... (Linear modules sit at even indices), weights `[out, in]` row-major. The
//! file stores effective weights `m w` (PyTorch has no abc multipliers); a loaded network has
//! multipliers 1. Works on bytes; reading and writing files is the caller's business.

use super::activation::Activation;
use super::mlp::{Layer, LayerParams, Mlp};
use super::scalar::Float;
use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use std::collections::BTreeMap;

/// Serializes the effective weights of `mlp` in its own precision (F32 or F64).
pub fn to_safetensors<T: Float>(mlp: &Mlp<T>) -> Result<Vec<u8>> {
    if mlp.layers.iter().any(|l| l.residual.is_some()) {
        return Err(Error::Model(
            "a residual network has no torch.nn.Sequential layout; save a plain MLP".into(),
        ));
    }
    if mlp.layers.iter().any(|l| l.linear) {
        return Err(Error::Model(
            "a network with linear hidden layers among nonlinear ones is not one activation's torch.nn.Sequential layout, which this lab reads back; save a plain MLP".into(),
        ));
    }
    let dtype = if T::NAME == "f32" {
        Dtype::F32
    } else {
        Dtype::F64
    };
    let bytes_of = |values: &mut dyn Iterator<Item = T>| -> Vec<u8> {
        values
            .flat_map(|x| {
                if T::NAME == "f32" {
                    (x.as_f64() as f32).to_le_bytes().to_vec()
                } else {
                    x.as_f64().to_le_bytes().to_vec()
                }
            })
            .collect()
    };
    let mut buffers: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (i, layer) in mlp.layers.iter().enumerate() {
        let weight = layer.effective_weight();
        // Row-major [out, in] is the column-major storage of the transpose.
        let row_major = weight.transpose();
        buffers.push((
            format!("{}.weight", 2 * i),
            vec![weight.nrows(), weight.ncols()],
            bytes_of(&mut row_major.iter().copied()),
        ));
        if let Some(bias) = layer.effective_bias() {
            buffers.push((
                format!("{}.bias", 2 * i),
                vec![bias.len()],
                bytes_of(&mut bias.iter().copied()),
            ));
        }
    }
    let views = buffers
        .iter()
        .map(|(name, shape, data)| {
            TensorView::new(dtype, shape.clone(), data)
                .map(|view| (name.clone(), view))
                .map_err(|e| Error::Model(format!("tensor {name}: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    safetensors::serialize(views, None).map_err(|e| Error::Model(e.to_string()))
}

/// Reads a `torch.nn.Sequential` MLP state dict (F32 or F64 tensors). Every hidden layer uses
/// `activation`. Errors name the missing key, the unexpected key or the wrong shape.
pub fn from_safetensors(bytes: &[u8], activation: Activation) -> Result<Mlp<f64>> {
    let file = SafeTensors::deserialize(bytes)
        .map_err(|e| Error::Model(format!("not a valid safetensors file: {e}")))?;
    let mut linear_indices = BTreeMap::new();
    for name in file.names() {
        let parsed = name.split_once('.').and_then(|(index, kind)| {
            let index: usize = index.parse().ok()?;
            matches!(kind, "weight" | "bias").then_some(index)
        });
        match parsed {
            Some(index) if index % 2 == 0 => {
                linear_indices.insert(index, ());
            }
            _ => {
                return Err(Error::Model(format!(
                    "unexpected key '{name}': expected only '<2i>.weight' and '<2i>.bias' of \
                     torch.nn.Sequential(Linear, act, ..., Linear)"
                )));
            }
        }
    }
    let count = linear_indices.len();
    if count < 2 {
        return Err(Error::Model(format!(
            "found {count} Linear layer(s); an MLP needs at least 2 (one hidden layer)"
        )));
    }
    let with_bias = file.names().iter().any(|n| n.ends_with(".bias"));
    let mut layers = Vec::with_capacity(count);
    let mut previous_out: Option<usize> = None;
    for i in 0..count {
        let key = format!("{}.weight", 2 * i);
        let (shape, values) = read_tensor(&file, &key)?;
        let [out, fan_in] = shape[..] else {
            return Err(Error::Shape {
                what: key,
                expected: "2 dimensions [out, in]".into(),
                found: format!("{shape:?}"),
            });
        };
        if let Some(expected) = previous_out
            && fan_in != expected
        {
            return Err(Error::Shape {
                what: key,
                expected: format!("[_, {expected}] (the previous layer has {expected} outputs)"),
                found: format!("{shape:?}"),
            });
        }
        if out == 0 || fan_in == 0 {
            return Err(Error::Shape {
                what: key,
                expected: "non-zero dimensions".into(),
                found: format!("{shape:?}"),
            });
        }
        previous_out = Some(out);
        let weight = DMatrix::from_row_slice(out, fan_in, &values);
        let bias = if with_bias {
            let key = format!("{}.bias", 2 * i);
            let (shape, values) = read_tensor(&file, &key)?;
            if shape != [out] {
                return Err(Error::Shape {
                    what: key,
                    expected: format!("[{out}]"),
                    found: format!("{shape:?}"),
                });
            }
            Some(DVector::from_vec(values))
        } else {
            None
        };
        layers.push(Layer {
            params: LayerParams { weight, bias },
            weight_multiplier: 1.0,
            bias_multiplier: 1.0,
            weight_lr_scale: 1.0,
            bias_lr_scale: 1.0,
            residual: None,
            linear: false,
        });
    }
    Ok(Mlp { layers, activation })
}

/// Shape and values (as f64) of tensor `key`.
fn read_tensor(file: &SafeTensors<'_>, key: &str) -> Result<(Vec<usize>, Vec<f64>)> {
    let view = file
        .tensor(key)
        .map_err(|_| Error::Model(format!("missing key '{key}'")))?;
    let data = view.data();
    let values: Vec<f64> = match view.dtype() {
        Dtype::F32 => data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64)
            .collect(),
        Dtype::F64 => data
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
            .collect(),
        other => {
            return Err(Error::Model(format!(
                "tensor '{key}' has dtype {other:?}; only F32 and F64 are supported (save with model.float())"
            )));
        }
    };
    if let Some(bad) = values.iter().find(|x| !x.is_finite()) {
        return Err(Error::Model(format!("tensor '{key}' contains {bad}")));
    }
    Ok((view.shape().to_vec(), values))
}
