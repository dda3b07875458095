//! JPEG encoding with libjpeg-turbo's TurboJPEG API, loaded at run time from
//! Debian's `libturbojpeg0` (`libturbojpeg.so.0`), so that a build needs no C
//! library and a machine without it falls back to the pure-Rust encoder.
//!
//! I420 and NV12 go in as planes (limited range widened to JPEG's full range
//! on the way), never converted to RGB; RGB(A) and gray8 go in as they are.
//! The JPEG is written straight into the caller's vector. Decoding gives RGB,
//! written straight into the frame buffer.
#![allow(unsafe_code)] // Calls into the C library; each call says why it is sound.

use std::ffi::{CStr, c_char, c_int, c_uchar, c_ulong, c_void};
use std::sync::OnceLock;

use libloading::Library;
use ooblex_runtime::PixelFormat;

use crate::media::pixels::{CHROMA_TO_FULL, Y_TO_GRAY};
use crate::media::raw::RawView;

/// The shared library, as Debian's `libturbojpeg0` installs it.
const LIBRARY: &str = "libturbojpeg.so.0";

type Handle = *mut c_void;

/// The TurboJPEG 2.x functions used (`turbojpeg.h`, stable since 1.4).
#[cfg_attr(not(feature = "hosts"), allow(dead_code))] // decompression serves JPEG links between hosts
struct Api {
    init_compress: unsafe extern "C" fn() -> Handle,
    destroy: unsafe extern "C" fn(Handle) -> c_int,
    error: unsafe extern "C" fn(Handle) -> *mut c_char,
    buf_size: unsafe extern "C" fn(c_int, c_int, c_int) -> c_ulong,
    #[allow(clippy::type_complexity)]
    compress: unsafe extern "C" fn(
        Handle,
        *const c_uchar,
        c_int,
        c_int,
        c_int,
        c_int,
        *mut *mut c_uchar,
        *mut c_ulong,
        c_int,
        c_int,
        c_int,
    ) -> c_int,
    #[allow(clippy::type_complexity)]
    compress_planes: unsafe extern "C" fn(
        Handle,
        *const *const c_uchar,
        c_int,
        *const c_int,
        c_int,
        c_int,
        *mut *mut c_uchar,
        *mut c_ulong,
        c_int,
        c_int,
    ) -> c_int,
    init_decompress: unsafe extern "C" fn() -> Handle,
    header:
        unsafe extern "C" fn(Handle, *const c_uchar, c_ulong, *mut c_int, *mut c_int, *mut c_int, *mut c_int) -> c_int,
    #[allow(clippy::type_complexity)]
    decompress:
        unsafe extern "C" fn(Handle, *const c_uchar, c_ulong, *mut c_uchar, c_int, c_int, c_int, c_int, c_int) -> c_int,
    /// Keeps the functions above loaded.
    _library: Library,
}

// TurboJPEG's pixel formats, subsamplings and flags (`turbojpeg.h`).
const TJPF_RGB: c_int = 0;
const TJPF_GRAY: c_int = 6;
const TJPF_RGBA: c_int = 7;
const TJSAMP_444: c_int = 0;
const TJSAMP_420: c_int = 2;
const TJSAMP_GRAY: c_int = 3;
/// Write into the buffer given, never reallocate it.
const TJFLAG_NOREALLOC: c_int = 1024;
/// The fast integer DCT, as GStreamer's `jpegenc` uses by default.
const TJFLAG_FASTDCT: c_int = 2048;

/// The library, loaded on first use, or why it could not be.
fn api() -> Result<&'static Api, &'static str> {
    static API: OnceLock<Result<Api, String>> = OnceLock::new();
    API.get_or_init(load).as_ref().map_err(String::as_str)
}

fn load() -> Result<Api, String> {
    // SAFETY: loading libjpeg-turbo runs no initialisers with preconditions.
    let library = unsafe { Library::new(LIBRARY) }.map_err(|err| format!("cannot load {LIBRARY}: {err}"))?;
    macro_rules! symbol {
        ($name:literal) => {
            // SAFETY: the type is the function's signature in `turbojpeg.h`.
            *unsafe { library.get(concat!($name, "\0").as_bytes()) }
                .map_err(|err| format!("{LIBRARY} has no `{}`: {err}", $name))?
        };
    }
    Ok(Api {
        init_compress: symbol!("tjInitCompress"),
        destroy: symbol!("tjDestroy"),
        error: symbol!("tjGetErrorStr2"),
        buf_size: symbol!("tjBufSize"),
        compress: symbol!("tjCompress2"),
        compress_planes: symbol!("tjCompressFromYUVPlanes"),
        init_decompress: symbol!("tjInitDecompress"),
        header: symbol!("tjDecompressHeader3"),
        decompress: symbol!("tjDecompress2"),
        _library: library,
    })
}

/// A TurboJPEG compressor, with the full-range planes of the last 4:2:0 picture.
pub(crate) struct TurboEncoder {
    api: &'static Api,
    handle: Handle,
    /// Y, U and V at full range, for I420 and NV12 pictures.
    planes: [Vec<u8>; 3],
}

// SAFETY: a TurboJPEG handle may move between threads; it is used by one at a time (`&mut self`).
unsafe impl Send for TurboEncoder {}

impl TurboEncoder {
    /// A compressor, when libjpeg-turbo loads.
    pub fn new() -> Result<TurboEncoder, String> {
        let api = api()?;
        // SAFETY: no preconditions; a null handle is the error.
        let handle = unsafe { (api.init_compress)() };
        if handle.is_null() {
            return Err("libjpeg-turbo could not start a compressor".to_string());
        }
        Ok(TurboEncoder {
            api,
            handle,
            planes: Default::default(),
        })
    }

    /// Encodes `view` at `quality` (1..=100), appending the JPEG file to
    /// `out`. Below 90 chroma is subsampled 4:2:0, as it always is from 4:2:0 input.
    pub fn encode(&mut self, view: &RawView<'_>, quality: u8, out: &mut Vec<u8>) -> Result<(), String> {
        if !(1..=65535).contains(&view.width) || !(1..=65535).contains(&view.height) {
            return Err(format!(
                "a {}x{} picture cannot be a JPEG (1x1 to 65535x65535)",
                view.width, view.height
            ));
        }
        let (width, height) = (view.width as c_int, view.height as c_int);
        let quality = c_int::from(quality.clamp(1, 100));
        let subsamp = match view.format {
            PixelFormat::Gray8 => TJSAMP_GRAY,
            PixelFormat::I420 | PixelFormat::Nv12 => TJSAMP_420,
            _ if quality >= 90 => TJSAMP_444,
            _ => TJSAMP_420,
        };
        // SAFETY: a pure function of its arguments.
        let room = unsafe { (self.api.buf_size)(width, height, subsamp) };
        // Room for the largest JPEG of this picture, left unwritten: TurboJPEG fills it.
        out.reserve(room as usize);
        let mut dest = out.spare_capacity_mut().as_mut_ptr().cast::<c_uchar>();
        let mut size = room;
        let flags = TJFLAG_NOREALLOC | TJFLAG_FASTDCT;
        let status = match view.format {
            PixelFormat::Rgb24 | PixelFormat::Rgba | PixelFormat::Gray8 => {
                let plane = view.plane(0);
                let pixel_format = match view.format {
                    PixelFormat::Rgb24 => TJPF_RGB,
                    PixelFormat::Rgba => TJPF_RGBA,
                    _ => TJPF_GRAY,
                };
                let pitch = plane.stride() as c_int;
                let source = plane.bytes();
                assert!(source.len() >= plane.stride() * (view.height - 1) + plane.row(0).len());
                // SAFETY: `source` holds `height` rows `pitch` apart of `width`
                // pixels in `pixel_format`; `dest` has room for the `room`
                // bytes tjBufSize asked for, and NOREALLOC keeps TurboJPEG inside it.
                unsafe {
                    (self.api.compress)(
                        self.handle,
                        source.as_ptr(),
                        width,
                        pitch,
                        height,
                        pixel_format,
                        &mut dest,
                        &mut size,
                        subsamp,
                        quality,
                        flags,
                    )
                }
            }
            _ => {
                self.widen(view);
                let (cw, ch) = (view.width.div_ceil(2), view.height.div_ceil(2));
                let strides = [(cw * 2) as c_int, cw as c_int, cw as c_int];
                assert!(self.planes[0].len() == cw * ch * 4 && self.planes.iter().skip(1).all(|p| p.len() == cw * ch));
                let planes = self.planes.each_ref().map(|plane| plane.as_ptr());
                // SAFETY: the planes hold what TurboJPEG reads of a `width` x
                // `height` 4:2:0 picture with `strides` (luma in whole chroma
                // samples, checked above); `dest` as above.
                unsafe {
                    (self.api.compress_planes)(
                        self.handle,
                        planes.as_ptr(),
                        width,
                        strides.as_ptr(),
                        height,
                        TJSAMP_420,
                        &mut dest,
                        &mut size,
                        quality,
                        flags,
                    )
                }
            }
        };
        if status != 0 {
            return Err(failure(self.api, self.handle));
        }
        assert!(size <= room, "TurboJPEG stays inside the buffer it was given");
        // SAFETY: TurboJPEG wrote the `size` bytes after the vector's end,
        // within the room reserved for it.
        unsafe { out.set_len(out.len() + size as usize) };
        Ok(())
    }

    /// Widens an I420 or NV12 `view` from limited to full range into
    /// `self.planes`. TurboJPEG reads 4:2:0 luma in whole chroma samples: an
    /// odd width or height gets one more column or row, a copy of the last.
    fn widen(&mut self, view: &RawView<'_>) {
        let (w, h) = (view.width, view.height);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let [y_out, u_out, v_out] = &mut self.planes;
        y_out.clear();
        u_out.clear();
        v_out.clear();
        let luma = view.plane(0);
        for row in (0..h).chain((h % 2 == 1).then_some(h - 1)) {
            let start = y_out.len();
            y_out.extend(luma.row(row).iter().map(|&v| Y_TO_GRAY[v as usize]));
            if w % 2 == 1 {
                y_out.push(y_out[y_out.len() - 1]);
            }
            debug_assert_eq!(y_out.len() - start, cw * 2);
        }
        match view.planes() {
            [_, u, v] => {
                for row in 0..ch {
                    u_out.extend(u.row(row)[..cw].iter().map(|&c| CHROMA_TO_FULL[c as usize]));
                    v_out.extend(v.row(row)[..cw].iter().map(|&c| CHROMA_TO_FULL[c as usize]));
                }
            }
            [_, uv] => {
                for row in 0..ch {
                    for pair in uv.row(row)[..cw * 2].chunks_exact(2) {
                        u_out.push(CHROMA_TO_FULL[pair[0] as usize]);
                        v_out.push(CHROMA_TO_FULL[pair[1] as usize]);
                    }
                }
            }
            _ => unreachable!("a 4:2:0 view has two or three planes"),
        }
    }
}

impl Drop for TurboEncoder {
    fn drop(&mut self) {
        // SAFETY: the handle came from tjInitCompress and is destroyed once.
        unsafe { (self.api.destroy)(self.handle) };
    }
}

/// A TurboJPEG decompressor, giving packed RGB.
#[cfg_attr(not(feature = "hosts"), allow(dead_code))] // used by JPEG links between hosts
pub(crate) struct TurboDecoder {
    api: &'static Api,
    handle: Handle,
}

// SAFETY: as for `TurboEncoder`.
unsafe impl Send for TurboDecoder {}

#[cfg_attr(not(feature = "hosts"), allow(dead_code))] // used by JPEG links between hosts
impl TurboDecoder {
    /// A decompressor, when libjpeg-turbo loads.
    pub fn new() -> Result<TurboDecoder, String> {
        let api = api()?;
        // SAFETY: no preconditions; a null handle is the error.
        let handle = unsafe { (api.init_decompress)() };
        if handle.is_null() {
            return Err("libjpeg-turbo could not start a decompressor".to_string());
        }
        Ok(TurboDecoder { api, handle })
    }

    /// The width and height of the JPEG file `jpeg`.
    pub fn size(&mut self, jpeg: &[u8]) -> Result<(usize, usize), String> {
        let (mut width, mut height, mut subsamp, mut colorspace) = (0, 0, 0, 0);
        // SAFETY: `jpeg` is `len` readable bytes; the outputs are valid ints.
        let status = unsafe {
            (self.api.header)(
                self.handle,
                jpeg.as_ptr(),
                jpeg.len() as c_ulong,
                &mut width,
                &mut height,
                &mut subsamp,
                &mut colorspace,
            )
        };
        if status != 0 || width <= 0 || height <= 0 {
            return Err(failure(self.api, self.handle));
        }
        Ok((width as usize, height as usize))
    }

    /// Decodes `jpeg`, of `size` (from [`TurboDecoder::size`]), into `rgb`:
    /// tight rows of packed RGB, `width * height * 3` bytes.
    pub fn decode_rgb(&mut self, jpeg: &[u8], size: (usize, usize), rgb: &mut [u8]) -> Result<(), String> {
        let (width, height) = size;
        assert_eq!(rgb.len(), width * height * 3, "room for the whole picture");
        // SAFETY: `jpeg` is readable; `rgb` holds `height` rows of `width`
        // RGB pixels, `width * 3` apart, as the arguments say.
        let status = unsafe {
            (self.api.decompress)(
                self.handle,
                jpeg.as_ptr(),
                jpeg.len() as c_ulong,
                rgb.as_mut_ptr(),
                width as c_int,
                (width * 3) as c_int,
                height as c_int,
                TJPF_RGB,
                TJFLAG_FASTDCT,
            )
        };
        if status != 0 {
            return Err(failure(self.api, self.handle));
        }
        Ok(())
    }
}

/// What went wrong in the last call on `handle`, in TurboJPEG's words.
fn failure(api: &Api, handle: Handle) -> String {
    // SAFETY: the handle is live; the message is a NUL-terminated string it owns.
    let message = unsafe { CStr::from_ptr((api.error)(handle)) };
    format!("libjpeg-turbo: {}", message.to_string_lossy())
}

impl Drop for TurboDecoder {
    fn drop(&mut self) {
        // SAFETY: the handle came from tjInitDecompress and is destroyed once.
        unsafe { (self.api.destroy)(self.handle) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::jpeg;
    use crate::media::pixels::convert;
    use crate::media::raw::{RawMut, frame_bytes};

    /// `bytes` (a `w` x `h` picture of `format`) as RGB.
    fn rgb_of(bytes: &[u8], format: PixelFormat, w: usize, h: usize) -> Vec<u8> {
        let mut rgb = vec![0; w * h * 3];
        convert(
            &RawView::tight(bytes, format, w, h),
            &mut RawMut::new(&mut rgb, PixelFormat::Rgb24, w, h),
        );
        rgb
    }

    /// The largest and the mean difference between two pictures.
    fn difference(a: &[u8], b: &[u8]) -> (u8, f64) {
        let worst = a.iter().zip(b).map(|(a, b)| a.abs_diff(*b)).max().unwrap_or(0);
        let sum: u64 = a.iter().zip(b).map(|(a, b)| u64::from(a.abs_diff(*b))).sum();
        (worst, sum as f64 / a.len() as f64)
    }

    #[test]
    fn libjpeg_turbo_keeps_the_picture_as_well_as_the_built_in_encoder() {
        let mut turbo =
            TurboEncoder::new().unwrap_or_else(|why| panic!("{why}: install libturbojpeg0 (scripts/test.sh does)"));
        // Odd sizes, so that 4:2:0 chroma has a half column and row.
        let (w, h) = (51, 31);
        let rgb: Vec<u8> = (0..w * h * 3)
            .map(|i| ((i / 3) % w + (i / 3) / w * 2 + (i % 3) * 30 + 20) as u8)
            .collect();
        for format in PixelFormat::RAW {
            let mut bytes = vec![0; frame_bytes(format, w, h)];
            convert(
                &RawView::tight(&rgb, PixelFormat::Rgb24, w, h),
                &mut RawMut::new(&mut bytes, format, w, h),
            );
            let view = RawView::tight(&bytes, format, w, h);
            let source = rgb_of(&bytes, format, w, h);
            for quality in [50, 95] {
                let (mut ours, mut built_in) = (Vec::new(), Vec::new());
                turbo.encode(&view, quality, &mut ours).expect("libjpeg-turbo encodes");
                jpeg::encode(&view, quality, &mut built_in).expect("the built-in encoder encodes");
                let decode = |jpeg: &[u8]| {
                    let picture = image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg)
                        .expect("a JPEG file")
                        .into_rgb8();
                    assert_eq!(picture.dimensions(), (w as u32, h as u32), "{format}");
                    picture.into_raw()
                };
                let ours = difference(&decode(&ours), &source);
                let built_in = difference(&decode(&built_in), &source);
                assert!(
                    ours.1 <= built_in.1 + 1.0 && ours.0 <= 48,
                    "{format} at {quality}: off by {ours:?} (largest, mean), the built-in encoder by {built_in:?}"
                );
            }
        }
    }

    #[test]
    fn a_jpeg_decodes_back_to_its_picture_and_garbage_is_an_error() {
        let (mut encoder, mut decoder) = (TurboEncoder::new().expect("loads"), TurboDecoder::new().expect("loads"));
        let (w, h) = (37, 21);
        let rgb: Vec<u8> = (0..w * h * 3)
            .map(|i| ((i / 3) % w * 3 + (i % 3) * 40 + 10) as u8)
            .collect();
        let mut jpeg = Vec::new();
        encoder
            .encode(&RawView::tight(&rgb, PixelFormat::Rgb24, w, h), 95, &mut jpeg)
            .expect("encodes");
        let size = decoder.size(&jpeg).expect("a JPEG header");
        assert_eq!(size, (w, h));
        let mut back = vec![0; w * h * 3];
        decoder.decode_rgb(&jpeg, size, &mut back).expect("decodes");
        let (worst, mean) = difference(&back, &rgb);
        assert!(worst <= 24 && mean <= 2.0, "off by {worst} at most, {mean} on average");
        for garbage in [&b"not a jpeg"[..], &jpeg[..jpeg.len() / 3], &[]] {
            let decoded = decoder
                .size(garbage)
                .and_then(|size| decoder.decode_rgb(garbage, size, &mut back));
            assert!(decoded.is_err(), "{} bytes of garbage", garbage.len());
        }
    }

    #[test]
    fn the_jpeg_is_appended_after_what_the_vector_held() {
        let mut turbo = TurboEncoder::new().expect("libjpeg-turbo loads");
        let bytes = vec![100; frame_bytes(PixelFormat::I420, 64, 48)];
        let mut out = vec![7u8; 3];
        turbo
            .encode(&RawView::tight(&bytes, PixelFormat::I420, 64, 48), 80, &mut out)
            .expect("encodes");
        assert_eq!(&out[..5], [7, 7, 7, 0xff, 0xd8]);
        assert_eq!(
            &out[out.len() - 2..],
            [0xff, 0xd9],
            "the file ends where the vector ends"
        );
    }
}
