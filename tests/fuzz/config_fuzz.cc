// libFuzzer target for the YAML documents a user writes: quality suites
// (YAML, or Great Expectations JSON), pipelines (plinth.yaml), drift rules, data
// pointer files and directory manifests, the prediction log segments monitoring reads and
// monitoring.yaml, gates files. The
// first byte picks the reader; any text gives a value or an error naming the source.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/yaml.h"
#include "data/objects.h"
#include "gates/suite.h"
#include "monitor/alerts.h"
#include "monitor/dataset_drift.h"
#include "monitor/prediction_log.h"
#include "pipeline/spec.h"
#include "quality/suite.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 9) {
    case 0:
      (void)plinth::core::ParseYaml(text, "doc.yaml");
      break;
    case 1:
      (void)plinth::quality::ParseSuite(text, "suite.yaml");
      break;
    case 2:
      (void)plinth::pipeline::ParsePipeline(text, "plinth.yaml", "/nonexistent-root");
      break;
    case 3:
      (void)plinth::data::ParsePointer(text, "data.csv.plinth");
      break;
    case 4:
      (void)plinth::monitor::ParseDriftRules(text, "drift.yaml");
      break;
    case 5: {
      // A segment read as predictions (all of them, or one role's: by the text's length), as
      // feedback, and the two joined.
      plinth::monitor::LogWindow window;
      window.traffic = static_cast<plinth::monitor::LogWindow::Traffic>(text.size() % 3);
      plinth::Result<plinth::monitor::LogRead> log =
          plinth::monitor::ParsePredictionLog(text, window);
      plinth::monitor::Feedback feedback;
      plinth::monitor::ParseFeedback(text, "<log>", feedback);
      if (log.ok()) {
        (void)plinth::monitor::JoinFeedback(*log, feedback, "label", text.size() % 2 == 0);
      }
      break;
    }
    case 7:
      (void)plinth::monitor::ParseMonitoringConfig(text, "monitoring.yaml");
      break;
    case 8:
      (void)plinth::gates::ParseSuite(text, "gates.yaml");
      break;
    default:
      (void)plinth::data::ParseManifest(text, "manifest");
      break;
  }
  return 0;
}
