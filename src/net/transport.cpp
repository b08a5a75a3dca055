// transport: the target URL, parsed once with Boost.URL.
#include "net/transport.hpp"

#include <boost/url/parse.hpp>
#include <charconv>
#include <stdexcept>
#include <string>

namespace gmsim {

target_url parse_target(std::string_view text) {
  namespace urls = boost::urls;
  // The reasons never quote the URL: it may hold credentials.
  auto parsed = urls::parse_uri(text);
  if (!parsed) {
    throw std::invalid_argument("not a valid absolute URL (" + parsed.error().message() +
                                "); expected http://host[:port]/path");
  }
  const urls::url_view url = *parsed;
  target_url out;
  if (url.scheme_id() == urls::scheme::https) {
    out.tls = true;
  } else if (url.scheme_id() != urls::scheme::http) {
    throw std::invalid_argument("unsupported scheme '" + std::string(url.scheme()) +
                                "'; use http:// or https://");
  }
  if (url.has_userinfo()) {
    throw std::invalid_argument(
        "credentials in the URL are not allowed; pass them with --auth-string");
  }
  if (!url.has_authority() || url.encoded_host().empty()) {
    throw std::invalid_argument("the URL has no host");
  }
  if (url.host_type() == urls::host_type::ipvfuture) {
    throw std::invalid_argument("unsupported IPvFuture host");
  }
  out.host = url.host_address();
  // What follows the host must be ":digits" or nothing, read from the text itself:
  // Boost.URL took the digits before a letter ("8O8O" went to port 8) or dropped what it
  // could not read ("S3cr3t" and "+80" went to port 80), and the traffic, Authorization
  // and all, went elsewhere. Not quoted: it may be a secret.
  {
    std::string_view authority = text.substr(text.find("//") + 2);
    authority = authority.substr(0, authority.find_first_of("/?#"));
    const std::size_t host_end =
        authority.starts_with('[') ? authority.find(']') + 1 : authority.find(':');
    const std::string_view after_host =
        host_end >= authority.size() ? std::string_view() : authority.substr(host_end);
    if (!after_host.empty() &&
        (after_host[0] != ':' ||
         after_host.find_first_not_of("0123456789", 1) != std::string_view::npos)) {
      throw std::invalid_argument("the port is not a number (digits only, 1 .. 65535)");
    }
  }
  if (url.has_port() && !url.port().empty()) {
    // Boost.URL keeps only the low 16 bits of a larger number: check the digits.
    const std::string_view digits = url.port();
    unsigned long number = 0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
    if (error != std::errc{} || end != digits.data() + digits.size() || number == 0 ||
        number > 65535) {
      throw std::invalid_argument("port '" + std::string(digits) + "' is out of range");
    }
    out.port = std::to_string(number);
  } else {
    out.port = out.tls ? "443" : "80";
  }
  out.target = url.encoded_path();
  if (out.target.empty()) out.target = "/";
  if (url.has_query()) out.target += "?" + std::string(url.encoded_query());
  out.text = std::string(text);
  return out;
}

}  // namespace gmsim
