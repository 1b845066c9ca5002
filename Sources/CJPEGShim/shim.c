#include "cjpegshim.h"
#include <jerror.h>

static void mnj_error_exit(j_common_ptr cinfo) {
    mnj_error *error = (mnj_error *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, error->message);
    longjmp(error->jump, 1);
}

// Warnings are never printed (stderr belongs to the tool); the ones that mean lost image data are kept.
static void mnj_emit_message(j_common_ptr cinfo, int level) {
    mnj_error *error = (mnj_error *)cinfo->err;
    if (level >= 0) return;
    int code = cinfo->err->msg_code;
    // An arithmetic-coded scan (SOF9) rarely detects bad data; it shows as bytes left over before the
    // next marker. Huffman-coded files from cameras sometimes carry such padding harmlessly.
    int arithmeticLeftover = code == JWRN_EXTRANEOUS_DATA && cinfo->is_decompressor &&
                             ((j_decompress_ptr)cinfo)->arith_code;
    if (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER || code == JWRN_MUST_RESYNC || arithmeticLeftover ||
        code == JWRN_HUFF_BAD_CODE || code == JWRN_ARITH_BAD_CODE || code == JWRN_BOGUS_PROGRESSION) {
        if (!error->damaged) (*cinfo->err->format_message)(cinfo, error->message);
        error->damaged = 1;
    }
    cinfo->err->num_warnings++;
}

static void mnj_install(mnj_error *error) {
    jpeg_std_error(&error->manager);
    error->manager.error_exit = mnj_error_exit;
    error->manager.emit_message = mnj_emit_message;
    error->message[0] = 0;
    error->damaged = 0;
}

int mnj_create_decompress(struct jpeg_decompress_struct *cinfo, mnj_error *error) {
    mnj_install(error);
    cinfo->err = &error->manager;
    if (setjmp(error->jump)) return 0;
    jpeg_create_decompress(cinfo);
    return 1;
}

int mnj_create_compress(struct jpeg_compress_struct *cinfo, mnj_error *error) {
    mnj_install(error);
    cinfo->err = &error->manager;
    if (setjmp(error->jump)) return 0;
    jpeg_create_compress(cinfo);
    return 1;
}

#define GUARDED(cinfo, call)                                   \
    do {                                                       \
        mnj_error *error = (mnj_error *)(cinfo)->err;          \
        if (setjmp(error->jump)) return 0;                     \
        call;                                                  \
        return 1;                                              \
    } while (0)

int mnj_mem_src(struct jpeg_decompress_struct *cinfo, const unsigned char *data, unsigned long length) {
    GUARDED(cinfo, jpeg_mem_src(cinfo, data, length));
}

int mnj_save_markers(struct jpeg_decompress_struct *cinfo, int marker, unsigned int length_limit) {
    GUARDED(cinfo, jpeg_save_markers(cinfo, marker, length_limit));
}

int mnj_read_header(struct jpeg_decompress_struct *cinfo) {
    GUARDED(cinfo, jpeg_read_header(cinfo, TRUE));
}

int mnj_start_decompress(struct jpeg_decompress_struct *cinfo) {
    GUARDED(cinfo, jpeg_start_decompress(cinfo));
}

int mnj_read_scanlines(struct jpeg_decompress_struct *cinfo, JSAMPARRAY rows, JDIMENSION max_lines,
                       JDIMENSION *lines_read) {
    *lines_read = 0;
    GUARDED(cinfo, *lines_read = jpeg_read_scanlines(cinfo, rows, max_lines));
}

int mnj_finish_decompress(struct jpeg_decompress_struct *cinfo) {
    GUARDED(cinfo, jpeg_finish_decompress(cinfo));
}

int mnj_set_defaults(struct jpeg_compress_struct *cinfo, int quality) {
    GUARDED(cinfo, { jpeg_set_defaults(cinfo); jpeg_set_quality(cinfo, quality, TRUE); });
}

int mnj_set_colorspace(struct jpeg_compress_struct *cinfo, J_COLOR_SPACE space) {
    GUARDED(cinfo, jpeg_set_colorspace(cinfo, space));
}

int mnj_start_compress(struct jpeg_compress_struct *cinfo) {
    GUARDED(cinfo, jpeg_start_compress(cinfo, TRUE));
}

int mnj_write_marker(struct jpeg_compress_struct *cinfo, int marker, const unsigned char *data,
                     unsigned int length) {
    GUARDED(cinfo, jpeg_write_marker(cinfo, marker, data, length));
}

int mnj_write_scanlines(struct jpeg_compress_struct *cinfo, JSAMPARRAY rows, JDIMENSION count) {
    GUARDED(cinfo, jpeg_write_scanlines(cinfo, rows, count));
}

int mnj_finish_compress(struct jpeg_compress_struct *cinfo) {
    GUARDED(cinfo, jpeg_finish_compress(cinfo));
}
