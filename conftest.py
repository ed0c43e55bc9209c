"""pytest configuration for the whole repository (nbval runs on chapters/, outside tests/)."""


def pytest_collectstart(collector):
    """Leave stderr out of nbval's comparison.

    TensorFlow and Keras write start-up log lines and warnings to stderr, which differ
    between machines and library builds; the stored notebooks keep no stderr at all.
    """
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr",)
