/* factor_qr.c - the otpauth URI as a QR code in inline SVG for the
 * enrolment page: no script, no style attribute (the page's CSP forbids
 * both), no fixed size (the stylesheet sizes it), and one path for every
 * dark module so the markup stays small. */
#include <errno.h>
#include <string.h>

#include <qrencode.h>

#include "factor.h"

#define QR_QUIET 4		/* modules of light margin (ISO 18004) */

/* The dark modules of one row as closed unit-high rectangles, runs of
 * neighbours merged into one. */
static int
totp_qr_row(const QRcode *qr, int y, struct buf *out)
{
	const unsigned char *row = qr->data + (size_t)y * (size_t)qr->width;
	int x, run;

	for (x = 0; x < qr->width; x += run) {
		for (run = 0; x + run < qr->width && (row[x + run] & 1); run++)
			;
		if (run == 0) {
			run = 1;
			continue;
		}
		if (buf_printf(out, "M%d %dh%dv1h-%dz", x + QR_QUIET,
		    y + QR_QUIET, run, run) == -1)
			return -1;
	}
	return 0;
}

int
totp_qr_svg(const char *uri, struct buf *out)
{
	QRcode *qr;
	int y, n, rc = -1;

	if (uri == NULL || uri[0] == '\0')
		return -1;
	/* Version 0: the smallest symbol that holds the URI; level M
	 * survives a smudged or glaring screen. */
	if ((qr = QRcode_encodeString(uri, 0, QR_ECLEVEL_M, QR_MODE_8,
	    1)) == NULL) {
		log_err("totp: QR code: %s", strerror(errno));
		return -1;
	}
	n = qr->width + 2 * QR_QUIET;
	/* The light background is drawn too, so the code scans on a dark
	 * page as well. */
	if (buf_printf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" "
	    "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"QR code\" "
	    "shape-rendering=\"crispEdges\"><polygon points=\"0,0 %d,0 %d,%d "
	    "0,%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"", n, n, n, n, n,
	    n) == -1)
		goto done;
	for (y = 0; y < qr->width; y++)
		if (totp_qr_row(qr, y, out) == -1)
			goto done;
	if (buf_puts(out, "\"/></svg>") == -1)
		goto done;
	rc = 0;
done:
	QRcode_free(qr);
	return rc;
}
