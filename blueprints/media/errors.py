"""Why an upload or a change was refused, in words for the person who tried it."""

from blueprints.core.errors import UserError


class MediaError(UserError):
    """An image the library will not take or a change it will not make."""

    status = 400


class NotAnImage(MediaError):
    default_message = (
        "That file is not a photo we can use. Please choose a JPEG, PNG or WebP image "
        "(GIF, SVG and other kinds of file are not accepted)."
    )


class DamagedImage(MediaError):
    default_message = (
        "That image could not be read to the end: the file may be damaged or only partly "
        "copied. Please save it again, or choose another one."
    )


class ImageTooBig(MediaError):
    """More pixels, or a longer side, than the library takes."""


class FileTooLarge(MediaError):
    """More bytes than the library takes."""

    status = 413


class EmptyFile(MediaError):
    default_message = "Please choose an image file to upload."


class MissingAltText(MediaError):
    default_message = "Describe the image: screen readers read this aloud."


class ImageInUse(MediaError):
    status = 409

    def __init__(self, places):
        self.places = places
        listed = "; ".join(places)
        super().__init__(
            f"This image is still used, so it was not deleted. Remove it from: {listed}."
        )
