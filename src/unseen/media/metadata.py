"""The allowlist of what may survive in an output file, and why.

Outputs are written from decoded pixels alone, with every writer option that could carry metadata left
unset, so nothing is copied from the input by accident: what is not listed here is not written. Each entry
is a tag as `exiftool -a -G1 -u` names it ("Group:Tag", or "Group:*" for a whole group). The tests run
exiftool on the outputs of inputs crafted with GPS, a thumbnail, maker notes, XMP, IPTC, comments and PNG
text chunks, and hold every output to this list both ways: nothing outside it, and nothing in it that
exiftool never finds.
"""

from __future__ import annotations


def _tags(why: str, *tags: str) -> dict[str, str]:
    return dict.fromkeys(tags, why)


# What exiftool reports for any file: facts about the file on disk or worked out from its size, none stored in it.
COMMON: dict[str, str] = {
    **_tags("exiftool's own version", "ExifTool:ExifToolVersion"),
    **_tags("the file system's name, size, dates and permissions: not stored in the file", "System:*"),
    **_tags("the file type, from its first bytes", "File:FileType", "File:FileTypeExtension", "File:MIMEType"),
    **_tags("worked out from the width and height", "Composite:ImageSize", "Composite:Megapixels"),
}

# What a HEIC or an AVIF holds around its coded pictures, whichever codec: none of it says who, where or with what.
_HEIF_COMMON: dict[str, str] = {
    **_tags("the primary picture's size", "File:ImageWidth", "File:ImageHeight"),
    **_tags(
        "the ftyp box: which kind of file it is (brands) and the version of that kind",
        *("QuickTime:MajorBrand", "QuickTime:MinorVersion", "QuickTime:CompatibleBrands"),
    ),
    **_tags(
        "the meta box: that it holds pictures ('pict' handler) and which one is shown",
        *("QuickTime:HandlerType", "Meta:PrimaryItemReference"),
    ),
    **_tags(
        "the ispe and pixi boxes: each picture's size and bits per channel",
        *("QuickTime:ImageSpatialExtent", "QuickTime:ImagePixelDepth"),
    ),
    **_tags(
        "the nclx colour box: how the coded YCbCr becomes RGB (primaries, transfer, matrix); no ICC profile",
        *("QuickTime:ColorProfiles", "QuickTime:ColorPrimaries", "QuickTime:TransferCharacteristics"),
        "QuickTime:MatrixCoefficients",
    ),
    **_tags(
        "where the coded pictures lie in the file (the mdat box)",
        *("QuickTime:MediaData", "QuickTime:MediaDataOffset", "QuickTime:MediaDataSize"),
    ),
}

# Per output format: what the file holds beyond its pixels, and why it is allowed.
ALLOWLIST: dict[str, dict[str, str]] = {
    "JPEG": {
        **COMMON,
        **_tags(
            "the frame header: size, precision, components and chroma subsampling, needed to decode",
            *("File:ImageWidth", "File:ImageHeight", "File:EncodingProcess", "File:BitsPerSample"),
            *("File:ColorComponents", "File:YCbCrSubSampling"),
        ),
        **_tags(
            "the JFIF header: version 1.01, square pixels and no density (unit None, 1×1); says nothing",
            *("JFIF:JFIFVersion", "JFIF:ResolutionUnit", "JFIF:XResolution", "JFIF:YResolution"),
        ),
    },
    "PNG": {
        **COMMON,
        **_tags(
            "the IHDR chunk: size, bit depth, colour type, compression, filter, interlace",
            *("PNG:ImageWidth", "PNG:ImageHeight", "PNG:BitDepth", "PNG:ColorType"),
            *("PNG:Compression", "PNG:Filter", "PNG:Interlace"),
        ),
    },
    "WEBP": {
        **COMMON,
        **_tags(
            "the VP8 frame header: size, scaling and the codec version",
            *("RIFF:ImageWidth", "RIFF:ImageHeight", "RIFF:HorizontalScale", "RIFF:VerticalScale"),
            "RIFF:VP8Version",
        ),
        **_tags("the VP8X header, with an alpha channel only: its flags say just 'Alpha'", "RIFF:WebP_Flags"),
        **_tags(
            "the ALPH chunk header: how the alpha channel is coded",
            *("RIFF:AlphaPreprocessing", "RIFF:AlphaFiltering", "RIFF:AlphaCompression"),
        ),
    },
    "TIFF": {
        **COMMON,
        **_tags("the byte order every TIFF file starts with", "File:ExifByteOrder"),
        **_tags(
            "baseline structure tags: size, samples, compression, strip layout, photometric interpretation",
            *("IFD0:ImageWidth", "IFD0:ImageHeight", "IFD0:BitsPerSample", "IFD0:Compression"),
            *("IFD0:PhotometricInterpretation", "IFD0:StripOffsets", "IFD0:SamplesPerPixel"),
            *("IFD0:RowsPerStrip", "IFD0:StripByteCounts", "IFD0:PlanarConfiguration"),
        ),
        **_tags("that the fourth (or second) sample is alpha, in images with an alpha channel", "IFD0:ExtraSamples"),
    },
    # HEIC and AVIF: an ISO base media file (boxes, as exiftool's QuickTime group names them) holding one coded
    # picture per image item, or one per top-level image of a multi-image HEIC. No Exif or XMP item, no ICC
    # profile, no thumbnail, no depth or other auxiliary image but alpha, no rotation (irot) or mirror (imir).
    "HEIF": {
        **COMMON,
        **_HEIF_COMMON,
        **_tags(
            "the hvcC box: the HEVC decoder's configuration (profile, level, chroma format, bit depth)",
            *("QuickTime:HEVCConfigurationVersion", "QuickTime:GeneralProfileSpace", "QuickTime:GeneralTierFlag"),
            *("QuickTime:GeneralProfileIDC", "QuickTime:GenProfileCompatibilityFlags"),
            *("QuickTime:ConstraintIndicatorFlags", "QuickTime:GeneralLevelIDC", "QuickTime:ChromaFormat"),
            *("QuickTime:MinSpatialSegmentationIDC", "QuickTime:ParallelismType", "QuickTime:BitDepthLuma"),
            *("QuickTime:BitDepthChroma", "QuickTime:AverageFrameRate", "QuickTime:ConstantFrameRate"),
            *("QuickTime:NumTemporalLayers", "QuickTime:TemporalIDNested"),
        ),
        **_tags(
            "the alpha plane's type (urn:mpeg:hevc:2015:auxid:1), in images with alpha", "QuickTime:AuxiliaryImageType"
        ),
    },
    "AVIF": {
        **COMMON,
        **_HEIF_COMMON,
        **_tags(
            "the av1C box: the AV1 decoder's configuration (profile, level, tier, bit depth, chroma format)",
            *("QuickTime:AV1ConfigurationVersion", "QuickTime:SeqProfile", "QuickTime:SeqLevelIdx0"),
            *("QuickTime:SeqTier0", "QuickTime:HighBitDepth", "QuickTime:TwelveBit", "QuickTime:ChromaFormat"),
            *("QuickTime:ChromaSamplePosition", "QuickTime:InitialDelaySamples"),
        ),
        **_tags("the alpha plane's type (urn:mpeg:mpegB:cicp:systems:auxiliary:alpha)", "QuickTime:AuxiliaryImageType"),
    },
}


def allowed(fmt: str, tag: str) -> bool:
    """Whether `tag` ("Group:Tag", as `exiftool -G1` names it) may appear in an output written as `fmt`."""
    table = ALLOWLIST[fmt]
    return tag in table or f"{tag.split(':', 1)[0]}:*" in table
