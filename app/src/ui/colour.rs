//! Colours. Colour is never the only signal (every utilization also shows
//! as a number, every status as a word), and the colours themselves are
//! chosen to read under the common colour-vision deficiencies: statuses
//! from the Okabe-Ito palette, utilization on a viridis-like ramp whose
//! lightness falls steadily from idle (pale) to saturated (dark).

use bevy_egui::egui::Color32;

/// Good, done, passing (Okabe-Ito bluish green).
pub const GREEN: Color32 = Color32::from_rgb(0, 158, 115);
/// Warning, slow (Okabe-Ito orange).
pub const ORANGE: Color32 = Color32::from_rgb(230, 159, 0);
/// Failing, refused, the bottleneck (Okabe-Ito vermillion).
pub const RED: Color32 = Color32::from_rgb(213, 94, 0);
/// Selection, flow (Okabe-Ito blue).
pub const BLUE: Color32 = Color32::from_rgb(0, 114, 178);
/// Secondary text.
pub const GREY: Color32 = Color32::from_rgb(110, 110, 110);
/// Text.
pub const INK: Color32 = Color32::from_rgb(30, 30, 30);

/// The window's background, behind every panel and the graph: drawn by
/// Bevy's clear (`ClearColor`), not by egui.
pub const BACKGROUND: [u8; 3] = [250, 250, 248];

/// The utilization ramp's stops: (utilization, colour), pale to dark.
pub const RAMP: [(f64, [u8; 3]); 5] = [
    (0.0, [240, 236, 170]),
    (0.5, [94, 201, 98]),
    (0.75, [33, 145, 140]),
    (0.9, [59, 82, 139]),
    (1.0, [68, 1, 84]),
];

/// A box's fill at utilization `u` (0..1): pale when idle, dark purple
/// when saturated.
pub fn heat(u: f64) -> Color32 {
    let u = if u.is_finite() {
        u.clamp(0.0, 1.0)
    } else {
        1.0
    };
    let k = RAMP.iter().rposition(|(at, _)| *at <= u).unwrap_or(0);
    let (a, ca) = RAMP[k];
    let (b, cb) = RAMP[(k + 1).min(RAMP.len() - 1)];
    let t = if b > a {
        ((u - a) / (b - a)) as f32
    } else {
        0.0
    };
    let m = |x: u8, y: u8| (x as f32 + (y as f32 - x as f32) * t).round() as u8;
    Color32::from_rgb(m(ca[0], cb[0]), m(ca[1], cb[1]), m(ca[2], cb[2]))
}

/// Text that reads on [`heat`]`(u)`: white on the dark end, ink otherwise.
pub fn ink_on(u: f64) -> Color32 {
    if luminance(heat(u)) < 0.21 {
        Color32::WHITE
    } else {
        INK
    }
}

/// Relative luminance (0 black .. 1 white), sRGB weights.
pub fn luminance(c: Color32) -> f32 {
    let lin = |x: u8| {
        let v = x as f32 / 255.0;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(c.r()) + 0.7152 * lin(c.g()) + 0.0722 * lin(c.b())
}

/// A word for a utilization, shown beside its number.
pub fn load_word(u: f64) -> &'static str {
    if u >= 0.9 {
        "saturated"
    } else if u >= 0.7 {
        "busy"
    } else if u >= 0.3 {
        "working"
    } else {
        // Not "idle": "24% idle" would read as 76% busy.
        "light"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ramp_darkens_steadily_so_it_reads_without_hue() {
        let mut last = f32::INFINITY;
        for k in 0..=100 {
            let l = luminance(heat(k as f64 / 100.0));
            assert!(
                l <= last + 1e-4,
                "lightness rises at {k}%: {l} after {last}"
            );
            last = l;
        }
        assert!(luminance(heat(0.0)) - luminance(heat(1.0)) > 0.7);
        assert_eq!(heat(f64::NAN), heat(1.0));
    }

    #[test]
    fn text_on_a_box_keeps_contrast() {
        for k in 0..=100 {
            let u = k as f64 / 100.0;
            let (bg, fg) = (luminance(heat(u)), luminance(ink_on(u)));
            let ratio = (bg.max(fg) + 0.05) / (bg.min(fg) + 0.05);
            assert!(ratio >= 4.0, "contrast {ratio:.1} at {k}%");
        }
    }
}
