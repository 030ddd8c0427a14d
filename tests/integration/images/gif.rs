//! GIF output changes no pixel: transparent pixels of different colors,
//! which GIF would store as one, are refused, and one transparent color
//! survives the round trip exactly.

use image::{DynamicImage, ImageBuffer, Rgba};

use crate::util::{Rcrop, load_image, save_image};

#[test]
fn transparent_pixels_of_different_colors_are_not_merged_into_one_gif_color() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.png");
    let pixel = |x: u32, y: u32| match (x + y) % 3 {
        0 => Rgba([255, 0, 0, 0]),
        1 => Rgba([0, 0, 255, 0]),
        _ => Rgba([9, 9, 9, 255]),
    };
    save_image(
        &DynamicImage::ImageRgba8(ImageBuffer::from_fn(6, 6, pixel)),
        &input,
    );
    let stderr = rcrop.run_fails(&["-c", "1"], &input, &dir.path().join("out.gif"));
    assert!(
        stderr.contains("transparent (alpha 0) pixels of 2 colors, which GIF stores as one"),
        "{stderr}"
    );
    // One transparent color survives a GIF round trip exactly, or is refused.
    let one = dir.path().join("one.png");
    let opaque_or_clear = |x: u32, y: u32| match (x + y) % 2 {
        0 => Rgba([0, 0, 0, 0]),
        _ => Rgba([200, 100, 50, 255]),
    };
    save_image(
        &DynamicImage::ImageRgba8(ImageBuffer::from_fn(6, 6, opaque_or_clear)),
        &one,
    );
    let gif = dir.path().join("one.gif");
    rcrop.run_ok(&["-c", "1"], &one, &gif);
    let back = load_image(&gif).to_rgba8();
    assert_eq!(back.get_pixel(0, 0).0, [0, 0, 0, 0]);
    assert_eq!(back.get_pixel(1, 0).0, [200, 100, 50, 255]);
}
