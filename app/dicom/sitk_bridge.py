"""The one bridge between Isthmus volumes and SimpleITK images.

Axis order: numpy arrays are [k, j, i]; SimpleITK indexes (i, j, k). ``GetImageFromArray``
and ``GetArrayFromImage`` already swap the order, so the array is passed as is and the
geometry's (i, j, k) spacing/origin/direction are set directly. Direction is the 3x3 matrix
whose columns are the i, j, k axes in LPS, flattened row-major as ITK expects.
"""

from __future__ import annotations

import numpy as np

from app.dicom.model import Geometry, Volume


def geometry_to_sitk(image, geometry: Geometry) -> None:
    image.SetOrigin(tuple(float(v) for v in geometry.origin_lps))
    image.SetSpacing(tuple(float(v) for v in geometry.spacing_mm))
    image.SetDirection(tuple(float(v) for v in geometry.direction.reshape(-1)))


def volume_to_sitk(volume: Volume):
    """A SimpleITK image with the volume's voxels and LPS geometry (shares no memory)."""
    import SimpleITK as sitk

    image = sitk.GetImageFromArray(np.ascontiguousarray(volume.array))
    geometry_to_sitk(image, volume.geometry)
    return image


def sitk_to_array_geometry(image) -> tuple[np.ndarray, Geometry]:
    """(array [k, j, i], Geometry) of a 3D SimpleITK image."""
    import SimpleITK as sitk

    if image.GetDimension() != 3:
        raise ValueError(f"expected a 3D image, got {image.GetDimension()}D")
    array = sitk.GetArrayFromImage(image)
    direction = np.array(image.GetDirection(), dtype=np.float64).reshape(3, 3)
    geometry = Geometry(np.array(image.GetOrigin()), np.array(image.GetSpacing()), direction,
                        tuple(int(v) for v in image.GetSize()))
    return array, geometry
