#ifndef BOUNCER_CCURL_SHIMS_H
#define BOUNCER_CCURL_SHIMS_H
// Why this exists: curl_easy_setopt, curl_easy_getinfo and curl_multi_setopt
// are variadic, and Swift cannot call C variadic functions. One wrapper per
// argument type keeps the types checked on the Swift side.
#include <curl/curl.h>

typedef size_t (*bouncer_curl_write_cb)(char *data, size_t size, size_t nmemb, void *userdata);
typedef int (*bouncer_curl_xferinfo_cb)(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
                                        curl_off_t ultotal, curl_off_t ulnow);

CURLcode bouncer_curl_setopt_long(CURL *easy, CURLoption option, long value);
CURLcode bouncer_curl_setopt_off(CURL *easy, CURLoption option, curl_off_t value);
CURLcode bouncer_curl_setopt_string(CURL *easy, CURLoption option, const char *value);
CURLcode bouncer_curl_setopt_pointer(CURL *easy, CURLoption option, void *value);
CURLcode bouncer_curl_setopt_slist(CURL *easy, CURLoption option, struct curl_slist *value);
CURLcode bouncer_curl_setopt_write_function(CURL *easy, bouncer_curl_write_cb cb);
CURLcode bouncer_curl_setopt_header_function(CURL *easy, bouncer_curl_write_cb cb);
CURLcode bouncer_curl_setopt_xferinfo_function(CURL *easy, bouncer_curl_xferinfo_cb cb);

CURLcode bouncer_curl_getinfo_long(CURL *easy, CURLINFO info, long *value);
CURLcode bouncer_curl_getinfo_double(CURL *easy, CURLINFO info, double *value);
CURLcode bouncer_curl_getinfo_off(CURL *easy, CURLINFO info, curl_off_t *value);
CURLcode bouncer_curl_getinfo_string(CURL *easy, CURLINFO info, const char **value);
CURLcode bouncer_curl_getinfo_pointer(CURL *easy, CURLINFO info, void **value);

CURLMcode bouncer_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value);

#endif
