"""embedlab: a local-first lab for text embeddings."""

from embedlab.errors import EmbedlabError
from embedlab.models import Encoder, ModelInfo, load_model

__version__ = "0.1.0"
__all__ = ["EmbedlabError", "Encoder", "ModelInfo", "__version__", "load_model"]
