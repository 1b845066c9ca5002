// libjpeg reports fatal errors by calling error_exit, which must not return; its default calls exit().
// These wrappers catch such errors with setjmp/longjmp inside C (Swift cannot safely be jumped over)
// and turn them into a 0 return plus a message, so a corrupt file can never end the process.
#ifndef MNEMOSYNE_CJPEGSHIM_H
#define MNEMOSYNE_CJPEGSHIM_H

#include <stddef.h>
#include <stdio.h>
#include <setjmp.h>
#include <jpeglib.h>

typedef struct mnj_error {
    struct jpeg_error_mgr manager;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
    /// Set when libjpeg warned that the data is damaged (truncated, bad Huffman code, lost sync).
    int damaged;
} mnj_error;

/// Creates a decompressor whose errors land in `error` (which must outlive it). 0 on failure.
int mnj_create_decompress(struct jpeg_decompress_struct *cinfo, mnj_error *error);
/// Creates a compressor whose errors land in `error`. 0 on failure.
int mnj_create_compress(struct jpeg_compress_struct *cinfo, mnj_error *error);

/// Each returns 1 on success and 0 when libjpeg raised an error (message in the mnj_error).
/// Reads from `length` bytes at `data` (which must outlive the decompressor).
int mnj_mem_src(struct jpeg_decompress_struct *cinfo, const unsigned char *data, unsigned long length);
int mnj_save_markers(struct jpeg_decompress_struct *cinfo, int marker, unsigned int length_limit);
int mnj_read_header(struct jpeg_decompress_struct *cinfo);
int mnj_start_decompress(struct jpeg_decompress_struct *cinfo);
/// Reads up to `max_lines` scanlines into `rows`; the count read goes to `*lines_read`.
int mnj_read_scanlines(struct jpeg_decompress_struct *cinfo, JSAMPARRAY rows, JDIMENSION max_lines,
                       JDIMENSION *lines_read);
int mnj_finish_decompress(struct jpeg_decompress_struct *cinfo);

int mnj_set_defaults(struct jpeg_compress_struct *cinfo, int quality);
int mnj_set_colorspace(struct jpeg_compress_struct *cinfo, J_COLOR_SPACE space);
int mnj_start_compress(struct jpeg_compress_struct *cinfo);
int mnj_write_marker(struct jpeg_compress_struct *cinfo, int marker, const unsigned char *data,
                     unsigned int length);
int mnj_write_scanlines(struct jpeg_compress_struct *cinfo, JSAMPARRAY rows, JDIMENSION count);
int mnj_finish_compress(struct jpeg_compress_struct *cinfo);

#endif
