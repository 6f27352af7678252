//! A running experiment of any type (DESIGN.md section 2: every experiment is a stepper):
//! what the registry starts and the CLI, the page's workers and the Python package drive
//! without knowing the experiment's config, result or backend.

use super::{Experiment, FigureData};
use crate::core::finite::first_non_finite;
use crate::core::stepper::{Progress, Stepper};
use crate::error::{Error, Result};
use serde::Serialize;
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;

/// A running experiment of any type: a [`Stepper`] whose result is the experiment's JSON.
pub trait Session {
    /// One bounded slice of work (see [`Stepper::step`]).
    fn step(&mut self) -> Pin<Box<dyn Future<Output = Result<Progress>> + '_>>;
    /// The result so far as the experiment's subcommand prints it (`--json`): pretty JSON,
    /// refused if a number in it is not finite.
    fn result_json(&self) -> Result<String>;
    /// The result so far as the experiment's figures.
    fn figures(&self) -> Result<Vec<FigureData>>;
}

/// A session started, or why not.
pub type Started = Result<Box<dyn Session>>;

/// The session of experiment `E`, run on whichever backend made `S`.
struct Typed<E, S> {
    session: S,
    experiment: std::marker::PhantomData<E>,
}

impl<E: Experiment, S: Stepper<Output = E::Result>> Session for Typed<E, S> {
    fn step(&mut self) -> Pin<Box<dyn Future<Output = Result<Progress>> + '_>> {
        Box::pin(self.session.step())
    }

    fn result_json(&self) -> Result<String> {
        to_json(&self.session.result())
    }

    fn figures(&self) -> Result<Vec<FigureData>> {
        let result = self.session.result();
        finite(&result)?;
        E::figures(&result)
    }
}

/// Erases a session of `E` (its own, or one on another backend).
pub fn boxed<E, S>(session: S) -> Box<dyn Session>
where
    E: Experiment + 'static,
    S: Stepper<Output = E::Result> + 'static,
{
    Box::new(Typed::<E, S> {
        session,
        experiment: std::marker::PhantomData,
    })
}

impl Stepper for Box<dyn Session> {
    type Output = Result<String>;

    fn step(&mut self) -> impl Future<Output = Result<Progress>> {
        Session::step(self.as_mut())
    }

    fn result(&self) -> Result<String> {
        self.result_json()
    }
}

/// Pretty JSON of a result, refused if any of its numbers is not finite (JSON would print it
/// as `null`, as if it were absent).
pub fn to_json<T: Serialize>(value: &T) -> Result<String> {
    finite(value)?;
    serde_json::to_string_pretty(value).map_err(|e| Error::Data(e.to_string()))
}

pub(crate) fn finite<T: Serialize>(value: &T) -> Result<()> {
    match first_non_finite(value) {
        Some((path, value)) => Err(Error::NonFinite { path, value }),
        None => Ok(()),
    }
}

/// A value as JSON, for the registry's type-erased configs.
pub(crate) fn to_value<T: Serialize>(value: &T) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| Error::Data(e.to_string()))
}
