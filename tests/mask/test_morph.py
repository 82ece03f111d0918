import torch

from dynst_cli.mask.morph import morph_graph


def test_graph_morph_folds_time_into_each_sensors_features():
    x = torch.randn(3, 5, 7, 2)
    z = morph_graph(x)
    assert z.shape == (3, 7, 10)
    assert torch.equal(z.reshape(3, 7, 5, 2).permute(0, 2, 1, 3), x)


def test_graph_features_stay_with_their_sensor_in_time_major_order():
    b, t, n, c = 2, 3, 4, 2
    x = torch.arange(b * t * n * c, dtype=torch.float32).reshape(b, t, n, c)
    z = morph_graph(x)
    for ti in range(t):
        for ci in range(c):
            assert torch.equal(z[:, :, ti * c + ci], x[:, ti, :, ci])
