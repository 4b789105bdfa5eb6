#include "CCurlShims.h"

CURLcode bouncer_curl_setopt_long(CURL *easy, CURLoption option, long value) {
    return curl_easy_setopt(easy, option, value);
}
CURLcode bouncer_curl_setopt_off(CURL *easy, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(easy, option, value);
}
CURLcode bouncer_curl_setopt_string(CURL *easy, CURLoption option, const char *value) {
    return curl_easy_setopt(easy, option, value);
}
CURLcode bouncer_curl_setopt_pointer(CURL *easy, CURLoption option, void *value) {
    return curl_easy_setopt(easy, option, value);
}
CURLcode bouncer_curl_setopt_slist(CURL *easy, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(easy, option, value);
}
CURLcode bouncer_curl_setopt_write_function(CURL *easy, bouncer_curl_write_cb cb) {
    return curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, cb);
}
CURLcode bouncer_curl_setopt_header_function(CURL *easy, bouncer_curl_write_cb cb) {
    return curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, cb);
}
CURLcode bouncer_curl_setopt_xferinfo_function(CURL *easy, bouncer_curl_xferinfo_cb cb) {
    return curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, cb);
}
CURLcode bouncer_curl_getinfo_long(CURL *easy, CURLINFO info, long *value) {
    return curl_easy_getinfo(easy, info, value);
}
CURLcode bouncer_curl_getinfo_off(CURL *easy, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(easy, info, value);
}
CURLcode bouncer_curl_getinfo_string(CURL *easy, CURLINFO info, const char **value) {
    return curl_easy_getinfo(easy, info, value);
}
CURLcode bouncer_curl_getinfo_pointer(CURL *easy, CURLINFO info, void **value) {
    return curl_easy_getinfo(easy, info, value);
}
CURLMcode bouncer_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value) {
    return curl_multi_setopt(multi, option, value);
}
CURLcode bouncer_curl_getinfo_double(CURL *easy, CURLINFO info, double *value) {
    return curl_easy_getinfo(easy, info, value);
}
