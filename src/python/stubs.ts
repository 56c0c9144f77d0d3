/**
 * Python stand-ins for the few helpers of third-party libraries that real model files build their layers with
 * (torchvision's `Conv2dNormActivation`, `SqueezeExcitation`, `_make_divisible`, `_ovewrite_named_param`, …).
 * The library itself is not part of the workspace, so without these every layer such a helper creates would be
 * unknown. Each stand-in is written from the library's documented behaviour (the torch.nn modules it creates,
 * in order, with the same arguments), and runs in the interpreter like workspace code. Layers created inside a
 * stand-in are located at the call in the user's file that led there (the innermost frame of a real run that is
 * in a model file), since the library file is not one the user can open.
 *
 * Only names listed here are known; anything else imported from these libraries stays unknown.
 */

/** Stand-in modules by their dotted name. */
export const STUB_MODULES: ReadonlyMap<string, string> = new Map([
  [
    'torchvision.ops.misc',
    `import torch
from torch import nn


def _ntuple(value, n):
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return tuple(value for _ in range(n))


class ConvNormActivation(torch.nn.Sequential):
    # torchvision.ops.misc.ConvNormActivation: conv, then norm_layer(out_channels) unless None, then
    # activation_layer(inplace=inplace) unless None. padding=None keeps the size at stride 1:
    # (kernel_size - 1) // 2 * dilation per dimension; bias=None means a bias only without a norm layer.
    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None, groups=1,
                 norm_layer=torch.nn.BatchNorm2d, activation_layer=torch.nn.ReLU, dilation=1, inplace=True,
                 bias=None, conv_layer=torch.nn.Conv2d):
        if padding is None:
            if isinstance(kernel_size, int) and isinstance(dilation, int):
                padding = (kernel_size - 1) // 2 * dilation
            else:
                n = len(kernel_size) if isinstance(kernel_size, (list, tuple)) else len(dilation)
                kernel_size = _ntuple(kernel_size, n)
                dilation = _ntuple(dilation, n)
                padding = tuple((kernel_size[i] - 1) // 2 * dilation[i] for i in range(n))
        if bias is None:
            bias = norm_layer is None
        layers = [conv_layer(in_channels, out_channels, kernel_size, stride, padding, dilation=dilation,
                             groups=groups, bias=bias)]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            params = {} if inplace is None else {"inplace": inplace}
            layers.append(activation_layer(**params))
        super().__init__(*layers)
        self.out_channels = out_channels


class Conv1dNormActivation(ConvNormActivation):
    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None, groups=1,
                 norm_layer=torch.nn.BatchNorm1d, activation_layer=torch.nn.ReLU, dilation=1, inplace=True,
                 bias=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, groups, norm_layer,
                         activation_layer, dilation, inplace, bias, torch.nn.Conv1d)


class Conv2dNormActivation(ConvNormActivation):
    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None, groups=1,
                 norm_layer=torch.nn.BatchNorm2d, activation_layer=torch.nn.ReLU, dilation=1, inplace=True,
                 bias=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, groups, norm_layer,
                         activation_layer, dilation, inplace, bias, torch.nn.Conv2d)


class Conv3dNormActivation(ConvNormActivation):
    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None, groups=1,
                 norm_layer=torch.nn.BatchNorm3d, activation_layer=torch.nn.ReLU, dilation=1, inplace=True,
                 bias=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, groups, norm_layer,
                         activation_layer, dilation, inplace, bias, torch.nn.Conv3d)


class SqueezeExcitation(torch.nn.Module):
    # torchvision.ops.misc.SqueezeExcitation: avgpool, fc1 (1x1 conv), activation, fc2, scale_activation;
    # the input is scaled by the result.
    def __init__(self, input_channels, squeeze_channels, activation=torch.nn.ReLU,
                 scale_activation=torch.nn.Sigmoid):
        super().__init__()
        self.avgpool = torch.nn.AdaptiveAvgPool2d(1)
        self.fc1 = torch.nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = torch.nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def _scale(self, input):
        scale = self.avgpool(input)
        scale = self.fc1(scale)
        scale = self.activation(scale)
        scale = self.fc2(scale)
        return self.scale_activation(scale)

    def forward(self, input):
        scale = self._scale(input)
        return scale * input


class MLP(torch.nn.Sequential):
    # torchvision.ops.misc.MLP: Linear (+ norm) + activation + Dropout per hidden width, then Linear + Dropout.
    def __init__(self, in_channels, hidden_channels, norm_layer=None, activation_layer=torch.nn.ReLU,
                 inplace=None, bias=True, dropout=0.0):
        params = {} if inplace is None else {"inplace": inplace}
        layers = []
        in_dim = in_channels
        for hidden_dim in hidden_channels[:-1]:
            layers.append(torch.nn.Linear(in_dim, hidden_dim, bias=bias))
            if norm_layer is not None:
                layers.append(norm_layer(hidden_dim))
            layers.append(activation_layer(**params))
            layers.append(torch.nn.Dropout(dropout, **params))
            in_dim = hidden_dim
        layers.append(torch.nn.Linear(in_dim, hidden_channels[-1], bias=bias))
        layers.append(torch.nn.Dropout(dropout, **params))
        super().__init__(*layers)


class Permute(torch.nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return torch.permute(x, self.dims)
`,
  ],
  [
    'torchvision.ops.stochastic_depth',
    `import torch
from torch import nn


def stochastic_depth(input, p, mode, training=True):
    # Drops whole rows (or the batch) at random: the shape is the input's.
    return input


class StochasticDepth(nn.Module):
    def __init__(self, p, mode):
        super().__init__()
        self.p = p
        self.mode = mode

    def forward(self, input):
        return stochastic_depth(input, self.p, self.mode, self.training)
`,
  ],
  [
    'torchvision.ops',
    `from torchvision.ops.misc import (Conv1dNormActivation, Conv2dNormActivation, Conv3dNormActivation,
                                  ConvNormActivation, MLP, Permute, SqueezeExcitation)
from torchvision.ops.stochastic_depth import StochasticDepth, stochastic_depth
`,
  ],
  [
    'torchvision.models._utils',
    `def _make_divisible(v, divisor, min_value=None):
    # The nearest multiple of divisor, at least min_value, and not more than 10% below v.
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def _ovewrite_named_param(kwargs, param, new_value):
    if param in kwargs:
        if kwargs[param] != new_value:
            raise ValueError("The parameter has another value")
    else:
        kwargs[param] = new_value


def handle_legacy_interface(**weights):
    # pretrained=True/False becomes weights=<default>/None.
    def outer_wrapper(builder):
        def inner_wrapper(*args, **kwargs):
            for weights_param, (pretrained_param, default) in weights.items():
                if pretrained_param in kwargs:
                    pretrained = kwargs.pop(pretrained_param)
                    kwargs[weights_param] = default if pretrained else None
            return builder(*args, **kwargs)

        return inner_wrapper

    return outer_wrapper
`,
  ],
  [
    'torchvision.models._api',
    `class Weights:
    def __init__(self, url=None, transforms=None, meta=None):
        self.url = url
        self.transforms = transforms
        self.meta = meta


class WeightsEnum:
    @classmethod
    def verify(cls, obj):
        return obj


def register_model(name=None):
    def wrapper(fn):
        return fn

    return wrapper
`,
  ],
  [
    'torchvision.models._meta',
    '_IMAGENET_CATEGORIES = ["?"] * 1000\n_KINETICS400_CATEGORIES = ["?"] * 400\n',
  ],
  ['torchvision.utils', 'def _log_api_usage_once(obj):\n    return None\n'],
  [
    'torchvision.transforms._presets',
    `class ImageClassification:
    def __init__(self, *args, **kwargs):
        pass


class VideoClassification:
    def __init__(self, *args, **kwargs):
        pass


class InterpolationMode:
    NEAREST = "nearest"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
`,
  ],
  [
    'torchvision.models.mobilenetv2',
    `import torch
from torch import nn
from torchvision.models._utils import _make_divisible


class ConvBNActivation(nn.Sequential):
    # torchvision 0.8-0.11 (models/mobilenetv2.py): conv without bias, norm_layer (default BatchNorm2d),
    # activation_layer (default ReLU6) with inplace=True; padding keeps the size at stride 1.
    def __init__(self, in_planes, out_planes, kernel_size=3, stride=1, groups=1, norm_layer=None,
                 activation_layer=None, dilation=1):
        padding = (kernel_size - 1) // 2 * dilation
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        if activation_layer is None:
            activation_layer = nn.ReLU6
        super().__init__(
            nn.Conv2d(in_planes, out_planes, kernel_size, stride, padding, dilation=dilation, groups=groups,
                      bias=False),
            norm_layer(out_planes),
            activation_layer(inplace=True),
        )
        self.out_channels = out_planes


ConvBNReLU = ConvBNActivation
`,
  ],
  [
    'torch.nn.modules.transformer',
    `import copy
import torch
from torch import nn
import torch.nn.functional as F


def _activation(activation):
    if isinstance(activation, str):
        return F.relu if activation == "relu" else F.gelu
    return activation


class MultiheadAttention(nn.Module):
    # torch.nn.MultiheadAttention has a child (out_proj), so it is not a leaf module, and its forward runs
    # F.multi_head_attention_forward on the weights without calling out_proj: no module call happens inside.
    # Query (L, N, E) or batch_first (N, L, E) or unbatched (L, E) gives an output of the query's shape; the
    # weights are (N, L, S), or (N, num_heads, L, S) when not averaged over the heads.
    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        super().__init__()
        if embed_dim % num_heads != 0:
            raise AssertionError("embed_dim must be divisible by num_heads")
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.batch_first = batch_first
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        batched = query.dim() == 3
        if batched and self.batch_first:
            lead = (query.shape[0], query.shape[1], key.shape[1])
        elif batched:
            lead = (query.shape[1], query.shape[0], key.shape[0])
        else:
            lead = (query.shape[0], key.shape[0])
        output = torch.zeros(query.shape[:-1] + (self.embed_dim,))
        if not need_weights:
            return output, None
        heads = () if average_attn_weights else (self.num_heads,)
        if batched:
            return output, torch.zeros((lead[0],) + heads + (lead[1], lead[2]))
        return output, torch.zeros(heads + lead)


class TransformerEncoderLayer(nn.Module):
    # The unfused path of torch.nn.TransformerEncoderLayer (the one training takes): self-attention and
    # feed-forward blocks, each with dropout, a residual and a LayerNorm (before the block when norm_first).
    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first)
        self.linear1 = nn.Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(dim_feedforward, d_model, bias=bias)
        self.norm_first = norm_first
        self.norm1 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.norm2 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.activation = _activation(activation)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x))
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x):
        x = self.self_attn(x, x, x, need_weights=False)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout2(x)


class TransformerDecoderLayer(nn.Module):
    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                 batch_first=batch_first)
        self.linear1 = nn.Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(dim_feedforward, d_model, bias=bias)
        self.norm_first = norm_first
        self.norm1 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.norm2 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.norm3 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.dropout3 = nn.Dropout(dropout)
        self.activation = _activation(activation)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x))
            x = x + self._mha_block(self.norm2(x), memory)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x))
            x = self.norm2(x + self._mha_block(x, memory))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x):
        x = self.self_attn(x, x, x, need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem):
        x = self.multihead_attn(x, mem, mem, need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout3(x)


class TransformerEncoder(nn.Module):
    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True):
        super().__init__()
        self.layers = nn.ModuleList([copy.deepcopy(encoder_layer) for i in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        output = src
        for mod in self.layers:
            output = mod(output, src_mask=mask, src_key_padding_mask=src_key_padding_mask)
        if self.norm is not None:
            output = self.norm(output)
        return output


class TransformerDecoder(nn.Module):
    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = nn.ModuleList([copy.deepcopy(decoder_layer) for i in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        output = tgt
        for mod in self.layers:
            output = mod(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask)
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(nn.Module):
    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6, dim_feedforward=2048,
                 dropout=0.1, activation=F.relu, custom_encoder=None, custom_decoder=None, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            encoder_layer = TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
                                                    layer_norm_eps, batch_first, norm_first, bias)
            encoder_norm = nn.LayerNorm(d_model, eps=layer_norm_eps)
            self.encoder = TransformerEncoder(encoder_layer, num_encoder_layers, encoder_norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            decoder_layer = TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
                                                    layer_norm_eps, batch_first, norm_first, bias)
            decoder_norm = nn.LayerNorm(d_model, eps=layer_norm_eps)
            self.decoder = TransformerDecoder(decoder_layer, num_decoder_layers, decoder_norm)
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask)
`,
  ],
]);

/** torch.nn classes that are built of other modules: their stand-ins run the modules they hold. */
export const COMPOSITE_TORCH_MODULES = new Set([
  'MultiheadAttention',
  'TransformerEncoderLayer',
  'TransformerDecoderLayer',
  'TransformerEncoder',
  'TransformerDecoder',
  'Transformer',
]);

/**
 * The stand-in module an import names, or null. An absolute name must match exactly; a relative import that no
 * workspace file answers (`from ..ops.misc import …` in a copied torchvision file) matches the stand-in whose
 * name ends with the same dotted path, when exactly one does.
 */
export function stubModuleName(dotted: string, level: number): string | null {
  if (level === 0) return STUB_MODULES.has(dotted) ? dotted : null;
  if (!dotted) return null;
  const matches = [...STUB_MODULES.keys()].filter((name) => name.endsWith(`.${dotted}`));
  return matches.length === 1 ? matches[0]! : null;
}

/** The path stand-in files are known by (never a workspace path). */
export function stubPath(name: string): string {
  return `<library:${name}>`;
}

export function isStubPath(path: string): boolean {
  return path.startsWith('<library:');
}
