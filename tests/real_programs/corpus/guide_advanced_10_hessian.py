# Origin: tensorflow/docs site/en/guide/advanced_autodiff.ipynb, cells ELGTaell_j81, FVqQuZj4XGjm, 6te7N6wVXwXX (Hessian by a Jacobian of a gradient).
# and the Newton step cells 3DdnbynBdSor + k1LYftgmswOO (tf.eye, tf.linalg.solve, assign_sub).
# Changes: the two Dense layers are written out as variables; seeded random inputs; the plots are
# left out; shapes (not the random-dependent values) are printed.
import tensorflow as tf

tf.random.set_seed(3)
x = tf.random.normal([7, 5])
kernel1, bias1 = tf.Variable(tf.random.normal([5, 8])), tf.Variable(tf.zeros([8]))
kernel2, bias2 = tf.Variable(tf.random.normal([8, 6])), tf.Variable(tf.zeros([6]))
with tf.GradientTape() as t2:
    with tf.GradientTape() as t1:
        x = tf.nn.relu(x @ kernel1 + bias1)
        x = tf.nn.relu(x @ kernel2 + bias2)
        loss = tf.reduce_mean(x**2)
    g = t1.gradient(loss, kernel1)
h = t2.jacobian(g, kernel1)
print(f"layer.kernel.shape: {kernel1.shape}")
print(f"h.shape: {h.shape}")
n_params = tf.reduce_prod(kernel1.shape)
g_vec = tf.reshape(g, [n_params, 1])
h_mat = tf.reshape(h, [n_params, n_params])
print(g_vec.shape, h_mat.shape)
eps = 1e-3
eye_eps = tf.eye(h_mat.shape[0]) * eps
update = tf.linalg.solve(h_mat + eye_eps, g_vec)
_ = kernel1.assign_sub(tf.reshape(update, kernel1.shape))
print(update.shape, eye_eps.dtype, kernel1.shape)
