//! strongSwan-style proposal strings — placeholder, filled in by the proposal work.
