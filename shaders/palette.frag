#version 330
// Palette pass: upscales the CPPN's three channels from the internal resolution with a Catmull-Rom
// filter (sharper than bilinear, no blocks), then maps them to colour:
//   channel 0 picks the hue from a cosine palette (Inigo Quilez), channel 1 shades it, channel 2 adds
//   highlights. Audio and beat uniforms push brightness and hue, so the look breathes with the music.
// Symmetry mirrors where the net is read (0 none, 0.5 left-right, 1 four-way, crossfaded between);
// feedback keeps a fading, slightly shrunk copy of the last frame under the new one (trails).
uniform sampler2D cppn, previous;
uniform vec2 source_size;
uniform vec3 palette_a, palette_b, palette_c, palette_d;
uniform float hue_shift, contrast, brightness, beat, bass, treble, symmetry, feedback;
const float FEEDBACK_ZOOM = 0.985;  // trails are drawn from a slightly shrunk last frame: they flow outwards
in vec2 uv;
out vec4 colour;

vec3 catmull_rom(sampler2D tex, vec2 p, vec2 size) {
    // 9-tap Catmull-Rom using bilinear fetches (after Jorge Jimenez / TheRealMJP).
    vec2 texel = p * size - 0.5;
    vec2 base = floor(texel) + 0.5;
    vec2 f = texel - floor(texel);
    vec2 w0 = f * (-0.5 + f * (1.0 - 0.5 * f));
    vec2 w1 = 1.0 + f * f * (-2.5 + 1.5 * f);
    vec2 w2 = f * (0.5 + f * (2.0 - 1.5 * f));
    vec2 w3 = f * f * (-0.5 + 0.5 * f);
    vec2 w12 = w1 + w2;
    vec2 t0 = (base - 1.0) / size, t3 = (base + 2.0) / size, t12 = (base + w2 / w12) / size;
    vec3 c = (texture(tex, vec2(t0.x, t0.y)).rgb * w0.x + texture(tex, vec2(t12.x, t0.y)).rgb * w12.x
              + texture(tex, vec2(t3.x, t0.y)).rgb * w3.x) * w0.y;
    c += (texture(tex, vec2(t0.x, t12.y)).rgb * w0.x + texture(tex, vec2(t12.x, t12.y)).rgb * w12.x
          + texture(tex, vec2(t3.x, t12.y)).rgb * w3.x) * w12.y;
    c += (texture(tex, vec2(t0.x, t3.y)).rgb * w0.x + texture(tex, vec2(t12.x, t3.y)).rgb * w12.x
          + texture(tex, vec2(t3.x, t3.y)).rgb * w3.x) * w3.y;
    return clamp(c, 0.0, 1.0);
}

vec3 cosine_palette(float t) {
    return palette_a + palette_b * cos(6.2831853 * (palette_c * t + palette_d));
}

vec3 mirrored(vec2 p) {
    vec2 left_right = vec2(0.5 + abs(p.x - 0.5), p.y);
    vec2 four_way = vec2(left_right.x, 0.5 + abs(p.y - 0.5));
    float towards_lr = clamp(2.0 * symmetry, 0.0, 1.0), towards_four = clamp(2.0 * symmetry - 1.0, 0.0, 1.0);
    if (towards_four > 0.0) {  // uniform branches: one fetch set when the amount sits on a step
        vec3 four = catmull_rom(cppn, four_way, source_size);
        return towards_four < 1.0 ? mix(catmull_rom(cppn, left_right, source_size), four, towards_four) : four;
    }
    vec3 lr = catmull_rom(cppn, left_right, source_size);
    return towards_lr < 1.0 ? mix(catmull_rom(cppn, p, source_size), lr, towards_lr) : lr;
}

void main() {
    vec3 net = symmetry > 0.0 ? mirrored(uv) : catmull_rom(cppn, uv, source_size);
    vec3 hue = clamp(cosine_palette(net.r + hue_shift + 0.05 * treble), 0.0, 1.0);
    float shade = smoothstep(0.0, 1.0, net.g);
    vec3 c = hue * mix(0.25, 1.0, shade) + pow(net.b, 6.0) * (0.35 + 0.5 * beat);
    c = (c - 0.5) * contrast + 0.5;
    c *= brightness * (1.0 + 0.35 * beat + 0.15 * bass);
    vec2 centred = uv - 0.5;
    c *= 1.0 - 0.6 * dot(centred, centred);  // soft vignette
    if (feedback > 0.0) {
        c = max(c, feedback * texture(previous, 0.5 + centred * FEEDBACK_ZOOM).rgb);
    }
    colour = vec4(clamp(c, 0.0, 1.0), 1.0);
}
