// libjpeg-turbo's TurboJPEG API (Debian libturbojpeg0-dev); no variadic calls, so no wrappers are needed.
#include <turbojpeg.h>
