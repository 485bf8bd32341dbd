//! Container images: the function's image derived from the user's by one
//! appended layer (`assemble`).

pub mod assemble;
