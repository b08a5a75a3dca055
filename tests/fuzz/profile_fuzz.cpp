// Profile text -> profile, as `gmsim run --profile FILE` and `gmsim validate` load a file:
// parse_profile() either returns a profile or throws profile_error with a one-line message
// that starts with the source; nothing else may come out of it.
#include "fuzz_target.hpp"
#include "profile/profile.hpp"
#include "profile/profile_reader.hpp"

namespace gmsim::fuzz {

int profile_entry(const std::uint8_t* data, std::size_t size) {
  constexpr std::string_view source = "fuzz.json";
  try {
    const profile p = parse_profile(as_text(data, size), source);
    expect(p.source == source, "the profile's source is the one given");
    expect(!p.name.empty(), "a profile always has a name");
    expect(p.duration > 0, "a profile's duration is positive");
    expect(!p.orgs.empty(), "a profile has at least one org");
  } catch (const profile_error& e) {
    const std::string_view what = e.what();
    expect(what.starts_with(source), "a profile_error starts with the source");
    expect(what.find('\n') == std::string_view::npos, "a profile_error is one line");
  }
  return 0;
}

}  // namespace gmsim::fuzz

GMSIM_FUZZ_TARGET(profile_entry)
