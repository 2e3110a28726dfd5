//! Drills: interview-style exercises graded by a hidden scenario and a cost model.
